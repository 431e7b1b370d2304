import copy
from decimal import Decimal

import pytest

from orders.models import Customer, Order, OrderEvent, OrderItem, Product
from tests.factories import ChannelFactory, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db

VALID_ORDER = {
    "number": "WEB-1001",
    "remote_id": "r-1001",
    "date_placed": "2026-11-01T10:30:00Z",
    "currency": "TRY",
    "amount": "283.33",
    "shipping_amount": "20.00",
    "discount_amount": "36.66",
    "payment_option": "credit_card",
    "payment_reference": "TX-778899",
    "customer": {
        "email": "ayse@example.com",
        "first_name": "Ayse",
        "last_name": "Yilmaz",
        "phone_number": "+90555",
    },
    "items": [
        {
            "product": {"sku": "TSHIRT-S", "name": "T-shirt S", "ean": "8690000000011"},
            "quantity": 2,
            "price": "50.00",
            "tax_rate": "20.00",
        },
        {
            "product": {"sku": "JEANS-32", "name": "Jeans 32"},
            "quantity": 1,
            "price": "100.00",
            "tax_rate": "20.00",
        },
        {
            "product": {"sku": "SOCKS", "name": "Socks"},
            "quantity": 3,
            "price": "33.33",
            "tax_rate": "10.00",
            "status": "450",
        },
    ],
}


def post_order(client, channel, body):
    return client.post(f"/api/channel/{channel.pk}/orders/", body, format="json")


def test_intake_creates_the_order_with_items_customer_and_event(channel_client, channel, channel_user):
    response = post_order(channel_client, channel, VALID_ORDER)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"] == "WEB-1001"
    assert body["channel"] == channel.pk
    assert body["amount"] == "283.33"
    assert body["refund_amount"] == "0.00"
    assert body["customer"]["email"] == "ayse@example.com"
    assert body["date_placed"].startswith("2026-11-01T10:30:00")
    assert [i["status"] for i in body["items"]] == ["400", "400", "450"]
    assert body["status"] == "400"  # the least advanced item
    assert body["cancel_status"] is None
    assert set(body["items"][0]) == {
        "id",
        "pk",
        "product",
        "quantity",
        "price",
        "tax_rate",
        "status",
        "cancel_status",
        "cancelled_quantity",
        "refund_amount",
        "extra_field",
        "modified_date",
    }
    assert body["items"][0]["product"] == {
        "id": Product.objects.get(sku="TSHIRT-S").pk,
        "sku": "TSHIRT-S",
        "name": "T-shirt S",
        "ean": "8690000000011",
    }
    event = OrderEvent.objects.get(order_id=body["id"])
    assert event.type == "order_created"
    assert event.actor == channel_user


def test_intake_shares_the_discount_over_items_to_the_cent(channel_client, channel):
    response = post_order(channel_client, channel, VALID_ORDER)

    items = OrderItem.objects.filter(order_id=response.json()["id"]).order_by("id")
    # values 100.00, 100.00, 99.99 share a 36.66 discount
    shares = [item.discount_amount for item in items]
    assert sum(shares) == Decimal("36.66")
    assert shares == [Decimal("12.22"), Decimal("12.22"), Decimal("12.22")]
    for item in items:
        assert item.discount_amount <= item.price * item.quantity


def test_intake_reuses_customer_by_email_and_product_by_sku(channel_client, channel):
    ProductFactory(sku="JEANS-32", name="Catalogue name", ean=None)
    post_order(channel_client, channel, VALID_ORDER)
    second = copy.deepcopy(VALID_ORDER)
    second["number"] = "WEB-1002"
    second["customer"]["email"] = "AYSE@example.com"
    second["items"][1]["product"]["ean"] = "8690000000028"

    assert post_order(channel_client, channel, second).status_code == 201
    assert Customer.objects.filter(channel=channel).count() == 1
    jeans = Product.objects.get(sku="JEANS-32")
    assert jeans.name == "Catalogue name"  # the catalogue's name is kept
    assert jeans.ean == "8690000000028"  # a missing identifier is filled


def test_staff_may_hand_over_orders_for_any_channel(staff_client, other_channel):
    assert post_order(staff_client, other_channel, VALID_ORDER).status_code == 201


@pytest.mark.parametrize("spelling", ["try", "TRY", "Try", " try "])
def test_currency_is_taken_in_any_case_and_returned_in_lowercase(channel_client, channel, spelling):
    response = post_order(channel_client, channel, {**VALID_ORDER, "currency": spelling})

    assert response.status_code == 201, response.json()
    assert response.json()["currency"] == "try"
    assert Order.objects.get().currency == "try"


def test_other_iso_currencies_are_accepted(channel_client, channel):
    for number, code in (("EUR-1", "eur"), ("USD-1", "USD"), ("GBP-1", "gbp")):
        response = post_order(channel_client, channel, {**VALID_ORDER, "number": number, "currency": code})
        assert (response.status_code, response.json()["currency"]) == (201, code.lower())


def test_extra_field_is_kept_and_its_id_stands_in_for_a_missing_remote_id(channel_client, channel):
    body = copy.deepcopy(VALID_ORDER)
    del body["remote_id"]
    body["extra_field"] = {"id": 98765, "source": "app"}
    body["items"][0]["extra_field"] = {"id": "line-1"}

    response = post_order(channel_client, channel, body)

    assert response.status_code == 201, response.json()
    order = response.json()
    assert (order["remote_id"], order["extra_field"]) == ("98765", {"id": 98765, "source": "app"})
    assert [item["extra_field"] for item in order["items"]] == [{"id": "line-1"}, {}, {}]
    assert order["pk"] == order["id"]
    assert all(item["pk"] == item["id"] and item["modified_date"] for item in order["items"])


@pytest.mark.parametrize(
    ("change", "field"),
    [({"extra_field": ["not", "an", "object"]}, "extra_field"), ({"extra_field": "text"}, "extra_field")],
)
def test_extra_field_must_be_an_object(channel_client, channel, change, field):
    response = post_order(channel_client, channel, {**VALID_ORDER, **change})

    assert response.status_code == 400
    assert field in response.json()
    assert_nothing_created()


def assert_nothing_created():
    assert Order.objects.count() == 0
    assert OrderItem.objects.count() == 0
    assert OrderEvent.objects.count() == 0


def with_changes(**changes):
    body = copy.deepcopy(VALID_ORDER)
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (with_changes(amount="283.35"), "amount"),
        (with_changes(amount="303.34", shipping_amount="0.00"), "amount"),
        (with_changes(discount_amount="400.00", amount="0.00"), "discount_amount"),
        (with_changes(amount="12.345"), "amount"),
        (with_changes(amount="abc"), "amount"),
        (with_changes(amount="-1.00"), "amount"),
        (with_changes(shipping_amount="-5.00"), "shipping_amount"),
        (with_changes(currency="lira"), "currency"),
        (with_changes(currency="QQQ"), "currency"),
        (with_changes(currency="qqq"), "currency"),
        (with_changes(currency="TR"), "currency"),
        (with_changes(currency="T1Y"), "currency"),
        (with_changes(currency=""), "currency"),
        (with_changes(date_placed="yesterday"), "date_placed"),
        (with_changes(payment_option="cash"), "payment_option"),
        (with_changes(payment_reference=None), "payment_reference"),
        (with_changes(payment_option="financing"), "financing_application_id"),
        (with_changes(items=[]), "items"),
        (with_changes(items="nope"), "items"),
        (with_changes(customer={"email": "not-an-email"}), "customer"),
        (with_changes(number=""), "number"),
        ({k: v for k, v in VALID_ORDER.items() if k != "customer"}, "customer"),
    ],
)
def test_intake_refuses_bad_input_with_400_and_creates_nothing(channel_client, channel, body, field):
    response = post_order(channel_client, channel, body)

    assert response.status_code == 400
    assert field in response.json()
    assert_nothing_created()


@pytest.mark.parametrize(
    ("item_change", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": "two"}, "quantity"),
        ({"price": "-1.00"}, "price"),
        ({"price": "1e400"}, "price"),
        ({"price": "NaN"}, "price"),
        ({"price": "Infinity"}, "price"),
        ({"tax_rate": "120"}, "tax_rate"),
        ({"status": "100"}, "status"),
        ({"status": "600"}, "status"),
        ({"status": "999"}, "status"),
        ({"product": {"name": "no sku"}}, "product"),
    ],
)
def test_intake_refuses_bad_items(channel_client, channel, item_change, field):
    body = copy.deepcopy(VALID_ORDER)
    body["items"][0].update(item_change)

    response = post_order(channel_client, channel, body)

    assert response.status_code == 400
    assert field in response.json()["items"]["0"]
    assert_nothing_created()


def test_amounts_that_do_not_add_up_name_the_expected_total(channel_client, channel):
    response = post_order(channel_client, channel, with_changes(amount="300.00"))

    assert response.status_code == 400
    assert response.json()["code"] == "amounts_do_not_add_up"
    assert "283.33" in response.json()["amount"][0]


def test_duplicate_number_within_a_channel_is_400(channel_client, channel):
    OrderFactory(channel=channel, number="WEB-1001")

    response = post_order(channel_client, channel, VALID_ORDER)

    assert response.status_code == 400
    assert response.json()["code"] == "duplicate_order_number"
    assert Order.objects.count() == 1


def test_the_same_number_on_another_channel_is_fine(channel_client, channel):
    OrderFactory(channel=ChannelFactory(), number="WEB-1001")

    assert post_order(channel_client, channel, VALID_ORDER).status_code == 201


def test_unknown_channel_is_404_for_staff_and_403_for_channel_users(staff_client, channel_client):
    assert post_order(staff_client, type("C", (), {"pk": 987654})(), VALID_ORDER).status_code == 404
    assert post_order(channel_client, type("C", (), {"pk": 987654})(), VALID_ORDER).status_code == 403
    assert_nothing_created()


def test_inactive_channel_refuses_orders(channel_client, channel):
    channel.is_active = False
    channel.save()

    response = post_order(channel_client, channel, VALID_ORDER)

    assert response.status_code == 400
    assert response.json()["code"] == "channel_inactive"
    assert_nothing_created()


@pytest.mark.parametrize("payload", ["not json", "[1, 2]", "null"])
def test_malformed_json_is_400(channel_client, channel, payload):
    response = channel_client.post(f"/api/channel/{channel.pk}/orders/", payload, content_type="application/json")
    assert response.status_code == 400
    assert_nothing_created()


def test_float_money_is_taken_as_its_decimal_text(channel_client, channel):
    body = with_changes(amount=283.33, shipping_amount=20, discount_amount=36.66)

    response = post_order(channel_client, channel, body)

    assert response.status_code == 201, response.json()
    assert Order.objects.get().amount == Decimal("283.33")
