"""Input a client can send that must be a 4xx, never a 500: ids beyond a bigint, NUL characters (which PostgreSQL
cannot store), numbers beyond the money columns, JSON nested past the parser's depth."""

import pytest

from tests.factories import CancellationReasonFactory, order_with_items

pytestmark = pytest.mark.django_db

HUGE = 10**20


@pytest.fixture
def world(channel):
    order = order_with_items(channel=channel)
    return {
        "channel": channel.pk,
        "order": order.pk,
        "item": order.items.get().pk,
        "reason": CancellationReasonFactory().pk,
    }


def intake_body(**changes):
    body = {
        "number": "H-1",
        "date_placed": "2026-01-01T00:00:00Z",
        "currency": "TRY",
        "amount": "10.00",
        "payment_option": "loyalty_money",
        "customer": {"email": "a@example.com"},
        "items": [{"product": {"sku": "S", "name": "N"}, "quantity": 2, "price": "5.00", "tax_rate": "0"}],
    }
    body.update(changes)
    return body


CALLS = [
    ("get", "/api/i1/orders/{huge}/", None),
    ("get", "/api/channel/{huge}/orders/", None),
    ("get", "/api/i1/orders/?channel={huge}", None),
    ("get", "/api/i1/orders/?number=%00", None),
    ("get", "/api/i1/orders/?customer_email=a%00@example.com", None),
    ("patch", "/api/i1/order_items/{huge}/", lambda w: {"status": "500"}),
    ("post", "/api/i1/orders/{order}/cancel/", lambda w: {"cancel_items": [HUGE], "reasons": {str(HUGE): 1}}),
    (
        "post",
        "/api/i1/orders/{order}/cancel/",
        lambda w: {"cancel_items": [w["item"]], "reasons": {str(w["item"]): HUGE}},
    ),
    ("post", "/api/i1/orders/{order}/cancel/", lambda w: {**cancel_body(w), "forced_refund_amount": "1e999999"}),
    ("post", "/api/i1/orders/{order}/cancel/", lambda w: {**cancel_body(w), "refund_invoice_number": "INV\x00"}),
    ("post", "/api/i1/orders/{order}/cancel/", lambda w: {**cancel_body(w), "ibans": {str(w["item"]): "DE\x0089"}}),
    (
        "post",
        "/api/channel/{channel}/cancellation_requests/",
        lambda w: {"order_item": HUGE, "reason": HUGE, "cancellation_type": "cancel"},
    ),
    (
        "post",
        "/api/channel/{channel}/cancellation_requests/",
        lambda w: {**request_body(w), "attributes": {"a": "\x00"}},
    ),
    ("post", "/api/channel/{channel}/cancellation_requests/", lambda w: {**request_body(w), "quantity": 2**40}),
    ("get", "/api/channel/{channel}/cancellation_requests/?pk__in={huge}", None),
    ("get", "/api/channel/{channel}/cancellation_requests/?order_id={huge}", None),
    ("get", "/api/channel/{channel}/cancellation_requests/{huge}/detailed/", None),
    ("post", "/api/i1/users/", lambda w: {"username": "u1", "password": "s3cure-enough-pass", "channels": [HUGE]}),
    ("post", "/api/i1/channels/", lambda w: {"name": "X", "conf": {"k": "v\x00"}}),
    (
        "post",
        "/api/i1/cancellation_reasons/",
        lambda w: {"cancellation_type": "cancel", "subject": "X", "translations": {"tr": "\x00"}},
    ),
    (
        "post",
        "/api/i1/cancellation_reasons/",
        lambda w: {"cancellation_type": "cancel", "subject": "X", "order": 2**40},
    ),
    ("post", "/api/channel/{channel}/orders/", lambda w: intake_body(number="N\x00")),
    ("post", "/api/channel/{channel}/orders/", lambda w: intake_body(amount="1e20")),
    ("get", "/api/i1/orders/?page=" + "9" * 30, None),
]


def cancel_body(w):
    return {"cancel_items": [w["item"]], "reasons": {str(w["item"]): w["reason"]}}


def request_body(w):
    return {"order_item": w["item"], "reason": w["reason"], "cancellation_type": "cancel"}


@pytest.mark.parametrize(("method", "path", "body"), CALLS)
def test_hostile_input_is_refused_not_a_server_error(staff_client, world, method, path, body):
    path = path.format(huge=HUGE, **world)
    call = getattr(staff_client, method)
    response = call(path, body(world), format="json") if body is not None else call(path)

    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])


def test_json_nested_too_deep_is_400(staff_client, world):
    body = "[" * 100_000 + "]" * 100_000
    response = staff_client.post(f"/api/i1/orders/{world['order']}/cancel/", body, content_type="application/json")
    assert response.status_code == 400


def test_an_idempotency_key_with_control_characters_is_400(staff_client, world):
    response = staff_client.post(
        f"/api/i1/orders/{world['order']}/cancel/", {}, format="json", HTTP_IDEMPOTENCY_KEY="abc\x01"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_invalid"


@pytest.mark.parametrize("offset", ["-20:00", "+14:00", "+23:59", "Z", "+03:00"])
@pytest.mark.parametrize("path", ["/api/i1/orders/", "/api/channel/{channel}/cancellation_requests/"])
def test_a_date_filter_with_any_offset_is_read_as_utc_never_a_500(staff_client, channel, offset, path):
    response = staff_client.get(path.format(channel=channel.pk), {"date_placed__gte": f"2025-01-01T00:00:00{offset}"})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("value", ["2025-13-01", "yesterday", "2025-01-01T00:00:00+99:00"])
def test_a_malformed_date_filter_is_400(staff_client, value):
    response = staff_client.get("/api/i1/orders/", {"date_placed__gte": value})
    assert response.status_code == 400
    assert "date_placed__gte" in response.json()


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/i1/channels/", "is_active"),
        ("/api/i1/users/", "is_staff"),
        ("/api/i1/cancellation_reasons/", "is_active"),
    ],
)
@pytest.mark.parametrize("value", ["13403266", "yes", "maybe", "2"])
def test_a_boolean_filter_refuses_garbage(staff_client, path, name, value):
    response = staff_client.get(path, {name: value})
    assert response.status_code == 400
    assert name in response.json()


@pytest.mark.parametrize("value", ["true", "True", "1", "false", "0"])
def test_a_boolean_filter_takes_true_and_false(staff_client, value):
    assert staff_client.get("/api/i1/channels/", {"is_active": value}).status_code == 200


@pytest.mark.parametrize(
    "change",
    [{"amount": "1e1"}, {"shipping_amount": "2E+1"}, {"discount_amount": "1e-1"}, {"amount": "283.33e0"}],
)
def test_intake_money_is_a_plain_decimal(channel_client, channel, change):
    from tests.orders.test_intake_api import VALID_ORDER

    response = channel_client.post(f"/api/channel/{channel.pk}/orders/", {**VALID_ORDER, **change}, format="json")

    assert response.status_code == 400
    assert next(iter(change)) in response.json()


def test_an_item_price_in_exponent_notation_is_refused(channel_client, channel):
    from tests.orders.test_intake_api import VALID_ORDER

    body = {**VALID_ORDER, "items": [{**VALID_ORDER["items"][0], "price": "5e1"}, *VALID_ORDER["items"][1:]]}
    response = channel_client.post(f"/api/channel/{channel.pk}/orders/", body, format="json")

    assert response.status_code == 400
    assert "items" in response.json()
