from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cancellations.models import CancellationPlan, CancellationRequest, EasyReturn
from orders.models import OrderEvent
from tests.cancellations.conftest import snapshot
from tests.conftest import auth_client
from tests.factories import (
    CancellationReasonFactory,
    CancellationRequestFactory,
    ChannelFactory,
    CustomerFactory,
    EasyReturnFactory,
    ProductFactory,
    UserFactory,
    order_with_items,
)

pytestmark = pytest.mark.django_db

IBAN = "TR330006100519786457841326"
MASKED = "TR33******************1326"

REQUEST_FIELDS = {
    "id",
    "pk",
    "order_item",
    "reason",
    "description",
    "cancellation_type",
    "status",
    "iban",
    "holder_name",
    "easy_return",
    "quantity",
    "fully_refund_as_loyalty_money",
    "uuid",
    "attributes",
    "attributes_kwargs",
    "localized_attributes",
    "localized_attributes_kwargs",
    "created_date",
    "modified_date",
}


def base(channel):
    return f"/api/channel/{channel.pk}/cancellation_requests/"


def request_state(item):
    item.refresh_from_db()
    return (
        item.cancel_status,
        list(CancellationRequest.objects.filter(order_item=item).values_list("status", flat=True)),
        CancellationPlan.objects.filter(order=item.order).count(),
    )


@pytest.fixture
def order(channel):
    return order_with_items(channel=channel, lines=[(Decimal("30.00"), 3), (Decimal("20.00"), 1)])


@pytest.fixture
def item(order):
    return order.items.order_by("id").first()


def create(client, channel, item, reason, **extra):
    body = {"order_item": item.pk, "reason": reason.pk, "cancellation_type": "cancel", **extra}
    return client.post(base(channel), body, format="json")


class TestCreate:
    def test_create_puts_the_request_and_the_item_in_waiting(self, channel_client, channel, order, item, cancel_reason):
        response = create(channel_client, channel, item, cancel_reason, description="Wrong colour", quantity=2)

        assert response.status_code == 201, response.json()
        body = response.json()
        assert set(body) == REQUEST_FIELDS
        assert (body["status"], body["quantity"], body["order_item"], body["reason"]) == (
            "waiting",
            2,
            item.pk,
            cancel_reason.pk,
        )
        assert body["easy_return"] is None
        item.refresh_from_db()
        order.refresh_from_db()
        assert item.cancel_status == "waiting"
        assert order.cancel_status == "waiting"
        assert OrderEvent.objects.filter(order=order, type="request_created").count() == 1

    def test_quantity_defaults_to_every_open_unit(self, channel_client, channel, item, cancel_reason):
        assert create(channel_client, channel, item, cancel_reason).json()["quantity"] == 3

    def test_the_back_office_sees_the_order_waiting(
        self, staff_client, channel_client, channel, order, item, cancel_reason
    ):
        create(channel_client, channel, item, cancel_reason)
        body = staff_client.get("/api/i1/orders/?cancel_status=waiting").json()
        assert [row["id"] for row in body["results"]] == [order.pk]

    def test_iban_is_validated_stored_compact_and_returned_masked(self, channel_client, channel, cancel_reason):
        order = order_with_items(channel=channel, payment_option="funds_transfer")
        item = order.items.get()

        response = create(
            channel_client, channel, item, cancel_reason, iban="TR33 0006 1005 1978 6457 8413 26", holder_name="Ayse"
        )

        assert response.status_code == 201, response.json()
        assert response.json()["iban"] == MASKED
        assert CancellationRequest.objects.get().iban == IBAN
        assert IBAN not in channel_client.get(base(channel)).content.decode()
        assert IBAN not in channel_client.get(f"{base(channel)}detailed/").content.decode()

    @pytest.mark.parametrize(
        ("payment_option", "status", "kind", "extra", "code"),
        [
            ("funds_transfer", "400", "cancel", {}, "iban_required"),
            ("funds_transfer", "400", "cancel", {"iban": IBAN}, "holder_name_required"),
            ("pay_on_delivery", "550", "refund", {"holder_name": "A"}, "iban_required"),
            ("credit_card", "400", "cancel", {"iban": "TR330006100519786457841327"}, "iban_invalid"),
        ],
    )
    def test_bank_transfer_needs_a_valid_account(
        self, channel_client, channel, cancel_reason, refund_reason, payment_option, status, kind, extra, code
    ):
        item = order_with_items(channel=channel, payment_option=payment_option, item_status=status).items.get()
        reason = refund_reason if kind == "refund" else cancel_reason
        before = request_state(item)

        response = channel_client.post(
            base(channel),
            {"order_item": item.pk, "reason": reason.pk, "cancellation_type": kind, **extra},
            format="json",
        )

        assert response.status_code == 400
        assert response.json()["code"] == code
        assert request_state(item) == before

    def test_loyalty_money_needs_no_iban(self, channel_client, channel, cancel_reason):
        item = order_with_items(channel=channel, payment_option="funds_transfer").items.get()
        response = create(channel_client, channel, item, cancel_reason, fully_refund_as_loyalty_money=True)
        assert response.status_code == 201

    @pytest.mark.parametrize(
        ("item_status", "kind", "code"),
        [
            ("500", "cancel", "type_does_not_fit_item"),
            ("400", "refund", "type_does_not_fit_item"),
            ("100", "cancel", "item_already_cancelled"),
            ("600", "refund", "item_already_cancelled"),
        ],
    )
    def test_type_must_fit_the_item(
        self, channel_client, channel, cancel_reason, refund_reason, item_status, kind, code
    ):
        item = order_with_items(channel=channel, item_status=item_status).items.get()
        reason = refund_reason if kind == "refund" else cancel_reason
        before = request_state(item)

        response = channel_client.post(
            base(channel), {"order_item": item.pk, "reason": reason.pk, "cancellation_type": kind}, format="json"
        )

        assert response.status_code == 400
        assert response.json()["code"] == code
        assert request_state(item) == before

    def test_reason_must_fit_and_be_active(self, channel_client, channel, item, refund_reason):
        before = request_state(item)
        mismatch = create(channel_client, channel, item, refund_reason)
        assert mismatch.status_code == 400
        assert mismatch.json()["code"] == "reason_type_mismatch"
        inactive = create(channel_client, channel, item, CancellationReasonFactory(is_active=False))
        assert inactive.json()["code"] == "reason_invalid"
        assert request_state(item) == before

    def test_a_second_waiting_request_is_refused(self, channel_client, channel, item, cancel_reason):
        create(channel_client, channel, item, cancel_reason, quantity=1)
        before = request_state(item)

        response = create(channel_client, channel, item, cancel_reason, quantity=1)

        assert response.status_code == 400
        assert response.json()["code"] == "item_has_waiting_request"
        assert request_state(item) == before

    @pytest.mark.parametrize("quantity", [0, 4, -1, "two"])
    def test_quantity_must_be_available(self, channel_client, channel, item, cancel_reason, quantity):
        before = request_state(item)
        response = create(channel_client, channel, item, cancel_reason, quantity=quantity)
        assert response.status_code == 400
        assert request_state(item) == before

    def test_another_channels_item_is_refused_like_an_unknown_one(self, channel_client, channel, cancel_reason):
        foreign = order_with_items(channel=ChannelFactory()).items.get()
        before = request_state(foreign)

        response = create(channel_client, channel, foreign, cancel_reason)
        unknown = channel_client.post(
            base(channel),
            {"order_item": 987654, "reason": cancel_reason.pk, "cancellation_type": "cancel"},
            format="json",
        )

        assert response.status_code == unknown.status_code == 400
        assert "order_item" in response.json()
        assert response.json()["order_item"][0].replace(str(foreign.pk), "N") == unknown.json()["order_item"][
            0
        ].replace("987654", "N")
        assert request_state(foreign) == before

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"order_item": "x", "reason": 1, "cancellation_type": "cancel"},
            {"order_item": 1, "reason": 1, "cancellation_type": "return"},
        ],
    )
    def test_malformed_input_is_400(self, channel_client, channel, body):
        response = channel_client.post(base(channel), body, format="json")
        assert response.status_code == 400
        assert not CancellationRequest.objects.exists()


class TestEasyReturn:
    def test_a_refund_request_on_an_easy_return_channel_gets_a_code(self, channel_client, channel, refund_reason):
        channel.conf = {"easy_return": {"shipping_company": "yurtici", "valid_days": 10, "max_count": 2}}
        channel.save()
        item = order_with_items(channel=channel, item_status="550").items.get()

        response = channel_client.post(
            base(channel),
            {"order_item": item.pk, "reason": refund_reason.pk, "cancellation_type": "refund"},
            format="json",
        )

        assert response.status_code == 201, response.json()
        easy_return = response.json()["easy_return"]
        assert easy_return["shipping_company"] == "yurtici"
        assert easy_return["max_count"] == 2
        assert easy_return["status"] == "active"
        assert easy_return["code"].startswith("ER")
        assert len(easy_return["code"]) == 12
        stored = EasyReturn.objects.get()
        assert stored.end_date - stored.start_date == timedelta(days=10)

    def test_no_code_for_a_cancel_or_without_the_conf(
        self, channel_client, channel, item, cancel_reason, refund_reason
    ):
        create(channel_client, channel, item, cancel_reason)
        shipped = order_with_items(channel=channel, item_status="550").items.get()
        channel_client.post(
            base(channel),
            {"order_item": shipped.pk, "reason": refund_reason.pk, "cancellation_type": "refund"},
            format="json",
        )
        assert not EasyReturn.objects.exists()

    def test_a_bad_easy_return_conf_is_refused_when_the_channel_is_saved(self, staff_client, channel):
        response = staff_client.patch(
            f"/api/i1/channels/{channel.pk}/", {"conf": {"easy_return": {"valid_days": 0}}}, format="json"
        )
        assert response.status_code == 400
        assert "conf" in response.json()


class TestChangeAndDelete:
    def test_patch_while_waiting(self, channel_client, channel, item, cancel_reason):
        created = create(channel_client, channel, item, cancel_reason, quantity=1).json()
        other_reason = CancellationReasonFactory(cancellation_type="cancel")

        response = channel_client.patch(
            f"{base(channel)}{created['id']}/",
            {"quantity": 2, "reason": other_reason.pk, "description": "Two, please"},
            format="json",
        )

        assert response.status_code == 200, response.json()
        assert (response.json()["quantity"], response.json()["reason"]) == (2, other_reason.pk)
        assert OrderEvent.objects.filter(type="request_updated").count() == 1

    def test_put_moves_the_request_to_another_item(self, channel_client, channel, order, cancel_reason):
        first, second = order.items.order_by("id")
        created = create(channel_client, channel, first, cancel_reason).json()

        response = channel_client.put(
            f"{base(channel)}{created['id']}/",
            {"order_item": second.pk, "reason": cancel_reason.pk, "cancellation_type": "cancel"},
            format="json",
        )

        assert response.status_code == 200, response.json()
        assert response.json()["quantity"] == 1
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.cancel_status, second.cancel_status) == (None, "waiting")

    def test_patch_refuses_a_status_change_and_bad_values(self, channel_client, channel, item, cancel_reason):
        created = create(channel_client, channel, item, cancel_reason).json()
        path = f"{base(channel)}{created['id']}/"

        status_change = channel_client.patch(path, {"status": "approved"}, format="json")
        same_status = channel_client.patch(path, {"status": "waiting"}, format="json")
        too_many = channel_client.patch(path, {"quantity": 9}, format="json")

        assert status_change.status_code == 400
        assert status_change.json()["code"] == "status_change_not_allowed"
        assert same_status.status_code == 200
        assert too_many.json()["code"] == "quantity_not_available"
        assert CancellationRequest.objects.get().quantity == 3

    def test_delete_while_waiting_frees_the_item(self, channel_client, channel, order, item, cancel_reason):
        created = create(channel_client, channel, item, cancel_reason).json()

        response = channel_client.delete(f"{base(channel)}{created['id']}/")

        assert response.status_code == 204
        assert not CancellationRequest.objects.exists()
        item.refresh_from_db()
        order.refresh_from_db()
        assert item.cancel_status is None
        assert order.cancel_status is None
        assert OrderEvent.objects.filter(type="request_deleted").count() == 1

    @pytest.mark.parametrize("status", ["rejected", "approved", "completed"])
    def test_nothing_but_waiting_can_be_edited_or_deleted(self, channel_client, channel, item, cancel_reason, status):
        request = CancellationRequestFactory(order_item=item, reason=cancel_reason, status=status, quantity=1)
        path = f"{base(channel)}{request.pk}/"

        patch = channel_client.patch(path, {"description": "x"}, format="json")
        delete = channel_client.delete(path)

        assert patch.status_code == delete.status_code == 400
        assert patch.json()["code"] == delete.json()["code"] == "request_not_waiting"
        request.refresh_from_db()
        assert (request.status, request.description) == (status, None)


class TestStateMachine:
    def test_waiting_rejected_then_a_new_request(self, channel_client, channel, order, item, cancel_reason):
        first = create(channel_client, channel, item, cancel_reason).json()

        rejected = channel_client.post(f"{base(channel)}{first['id']}/reject/")

        assert rejected.status_code == 200
        assert rejected.json()["status"] == "rejected"
        item.refresh_from_db()
        assert item.cancel_status == "rejected"
        again = channel_client.post(f"{base(channel)}{first['id']}/reject/")
        assert again.status_code == 400
        assert again.json()["code"] == "request_not_waiting"
        second = create(channel_client, channel, item, cancel_reason)
        assert second.status_code == 201
        types = list(OrderEvent.objects.filter(order=order).values_list("type", flat=True))
        assert types.count("request_created") == 2
        assert "request_rejected" in types

    def test_waiting_approved_completed(
        self, staff_client, channel_client, channel, order, item, cancel_reason, django_capture_on_commit_callbacks
    ):
        created = create(channel_client, channel, item, cancel_reason, quantity=2).json()

        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            approved = staff_client.post(f"{base(channel)}{created['id']}/approve/", {}, format="json")

        assert approved.status_code == 200, approved.json()
        assert approved.json()["status"] == "approved"
        plan = CancellationPlan.objects.get()
        assert [(pi.order_item_id, pi.quantity, pi.refund_amount) for pi in plan.items.all()] == [
            (item.pk, 2, Decimal("60.00"))
        ]
        item.refresh_from_db()
        assert (item.cancel_status, item.cancelled_quantity, item.status) == ("approved", 2, "400")
        assert channel_client.get(f"{base(channel)}?cancellation_plan_status=waiting").json()["count"] == 1

        for callback in callbacks:
            callback()

        request = CancellationRequest.objects.get()
        assert request.status == "completed"
        item.refresh_from_db()
        assert (item.cancel_status, item.refund_amount) == ("confirmed", Decimal("60.00"))
        types = list(OrderEvent.objects.filter(order=order).values_list("type", flat=True))
        assert {"request_created", "request_approved", "cancellation_planned", "request_completed"} <= set(types)
        # the last unit can be asked for in a new request
        assert create(channel_client, channel, item, cancel_reason).json()["quantity"] == 1

    def test_approval_uses_the_request_iban_and_loyalty_choice(
        self, staff_client, channel_client, channel, cancel_reason
    ):
        item = order_with_items(channel=channel, payment_option="funds_transfer").items.get()
        created = create(channel_client, channel, item, cancel_reason, iban=IBAN, holder_name="Ayse Yilmaz").json()

        staff_client.post(f"{base(channel)}{created['id']}/approve/", {}, format="json")

        refund = CancellationPlan.objects.get().refunds.get()
        assert (refund.method, refund.iban, refund.holder_name) == ("funds_transfer", IBAN, "Ayse Yilmaz")

        loyalty_item = order_with_items(channel=channel, payment_option="credit_card").items.get()
        loyal = create(channel_client, channel, loyalty_item, cancel_reason, fully_refund_as_loyalty_money=True).json()
        staff_client.post(f"{base(channel)}{loyal['id']}/approve/", {}, format="json")
        assert CancellationPlan.objects.get(order=loyalty_item.order).refunds.get().method == "loyalty_money"

    def test_approve_with_a_forced_amount(self, staff_client, channel_client, channel, item, cancel_reason):
        created = create(channel_client, channel, item, cancel_reason).json()
        response = staff_client.post(
            f"{base(channel)}{created['id']}/approve/", {"forced_refund_amount": "12.34"}, format="json"
        )
        assert response.status_code == 200
        assert CancellationPlan.objects.get().refunds.get().amount == Decimal("12.34")

    def test_approve_is_staff_only(self, channel_client, channel, item, cancel_reason):
        created = create(channel_client, channel, item, cancel_reason).json()
        before = request_state(item)

        response = channel_client.post(f"{base(channel)}{created['id']}/approve/", {}, format="json")

        assert response.status_code == 403
        assert request_state(item) == before

    def test_approve_refusals_change_nothing(self, staff_client, channel_client, channel, order, item, cancel_reason):
        created = create(channel_client, channel, item, cancel_reason).json()
        channel_client.post(f"{base(channel)}{created['id']}/reject/")
        before = snapshot(order)

        not_waiting = staff_client.post(f"{base(channel)}{created['id']}/approve/", {}, format="json")
        assert not_waiting.status_code == 400
        assert not_waiting.json()["code"] == "request_not_waiting"

        fresh = create(channel_client, channel, item, cancel_reason).json()
        item.refresh_from_db()
        before = snapshot(order)
        too_much = staff_client.post(
            f"{base(channel)}{fresh['id']}/approve/", {"forced_refund_amount": "9999.00"}, format="json"
        )
        assert too_much.status_code == 400
        assert too_much.json()["code"] == "forced_refund_amount_too_high"
        assert snapshot(order) == before
        assert CancellationRequest.objects.get(pk=fresh["id"]).status == "waiting"

    def test_a_cancel_request_for_an_item_that_shipped_meanwhile_cannot_be_approved(
        self, staff_client, channel_client, channel, order, item, cancel_reason
    ):
        created = create(channel_client, channel, item, cancel_reason).json()
        staff_client.patch(f"/api/i1/order_items/{item.pk}/", {"status": "500"}, format="json")
        before = snapshot(order)

        response = staff_client.post(f"{base(channel)}{created['id']}/approve/", {}, format="json")

        assert response.status_code == 400
        assert response.json()["code"] == "reason_type_mismatch"
        assert snapshot(order) == before

    def test_cancelling_an_item_with_a_waiting_request_directly_is_refused(
        self, staff_client, channel_client, channel, order, item, cancel_reason
    ):
        create(channel_client, channel, item, cancel_reason)
        before = snapshot(order)
        response = staff_client.post(
            f"/api/i1/orders/{order.pk}/cancel/",
            {"cancel_items": [item.pk], "reasons": {str(item.pk): cancel_reason.pk}},
            format="json",
        )
        assert response.json()["code"] == "item_has_waiting_request"
        assert snapshot(order) == before


class TestDetailed:
    def test_detailed_nests_item_order_product_reason_channel_customer_easy_return(
        self, channel_client, channel, refund_reason
    ):
        channel.conf = {"easy_return": {"shipping_company": "aras"}, "storefront_api_token": "s3cret"}
        channel.save()
        order = order_with_items(channel=channel, item_status="550")
        item = order.items.get()
        created = channel_client.post(
            base(channel),
            {"order_item": item.pk, "reason": refund_reason.pk, "cancellation_type": "refund"},
            format="json",
        ).json()

        body = channel_client.get(f"{base(channel)}{created['id']}/detailed/").json()

        assert body["order_item"]["pk"] == item.pk
        assert body["order_item"]["order"]["pk"] == order.pk
        assert body["order_item"]["order"]["number"] == order.number
        assert body["order_item"]["product"]["sku"] == item.product.sku
        assert body["reason"]["pk"] == refund_reason.pk
        assert body["channel"]["id"] == channel.pk
        assert body["channel"]["conf"] == {"easy_return": {"shipping_company": "aras"}}  # credentials left out
        assert body["customer"]["email"] == order.customer.email
        assert body["easy_return"]["shipping_company"] == "aras"
        listed = channel_client.get(f"{base(channel)}detailed/").json()
        assert listed["count"] == 1
        assert listed["results"][0] == body


class TestIsolation:
    def test_channel_users_see_only_their_channels_requests(self, channel_client, channel, item, cancel_reason):
        mine = create(channel_client, channel, item, cancel_reason).json()
        other = ChannelFactory()
        foreign = CancellationRequestFactory(
            order_item=order_with_items(channel=other).items.get(), reason=cancel_reason
        )

        listed = channel_client.get(base(channel)).json()
        assert [row["id"] for row in listed["results"]] == [mine["id"]]
        for suffix in ("", "detailed/"):
            assert channel_client.get(f"{base(channel)}{foreign.pk}/{suffix}").status_code == 404
        assert channel_client.post(f"{base(channel)}{foreign.pk}/reject/").status_code == 404
        assert (
            channel_client.patch(f"{base(channel)}{foreign.pk}/", {"description": "x"}, format="json").status_code
            == 404
        )
        assert channel_client.delete(f"{base(channel)}{foreign.pk}/").status_code == 404
        assert channel_client.get(base(other)).status_code == 403
        assert channel_client.post(f"{base(other)}{foreign.pk}/reject/").status_code == 403
        foreign.refresh_from_db()
        assert foreign.status == "waiting"

    def test_anonymous_is_401(self, anon_client, channel):
        assert anon_client.get(base(channel)).status_code == 401

    def test_staff_reaches_every_channel(self, staff_client, channel, item, cancel_reason):
        CancellationRequestFactory(order_item=item, reason=cancel_reason)
        assert staff_client.get(base(channel)).json()["count"] == 1


class TestFilters:
    @pytest.fixture
    def two_requests(self, channel, cancel_reason, refund_reason):
        now = timezone.now()
        ada = CustomerFactory(channel=channel, email="Ada@Example.com", first_name="Ada", last_name="Lovelace")
        bob = CustomerFactory(channel=channel, email="bob@example.com", first_name="Bob", last_name="Marley")
        old_order = order_with_items(
            channel=channel, number="ORD-OLD", customer=ada, date_placed=now - timedelta(days=10)
        )
        new_order = order_with_items(
            channel=channel, number="ORD-NEW", customer=bob, date_placed=now, item_status="550"
        )
        old_item, new_item = old_order.items.get(), new_order.items.get()
        ProductFactory._meta.model.objects.filter(pk=old_item.product_id).update(sku="SKU-Ada")
        plan = CancellationPlan.objects.create(
            order=old_order, channel_id=old_order.channel_id, plan_type="cancel", status="failed"
        )
        easy_return = EasyReturnFactory(code="ERCODE123", tracking_number="TRK-42")
        old = CancellationRequestFactory(
            order_item=old_item, reason=cancel_reason, status="approved", cancellation_plan=plan
        )
        new = CancellationRequestFactory(
            order_item=new_item, reason=refund_reason, cancellation_type="refund", easy_return=easy_return
        )
        return old, new, now

    @pytest.mark.parametrize("detailed", ["", "detailed/"])
    def test_every_filter_matches_and_misses(self, channel_client, channel, two_requests, detailed):
        old, new, now = two_requests

        def ids(query):
            response = channel_client.get(f"{base(channel)}{detailed}?{query}")
            assert response.status_code == 200, response.json()
            return {row["id"] for row in response.json()["results"]}

        yesterday = (now - timedelta(days=1)).isoformat().replace("+00:00", "Z")
        today = now.date().isoformat()
        cases = [
            (f"pk__in={old.pk},{new.pk}", {old.pk, new.pk}),
            (f"pk__in={new.pk + 100}", set()),
            ("status=approved", {old.pk}),
            ("status=rejected", set()),
            ("number=ord-old", {old.pk}),
            ("number=ORD-NONE", set()),
            (f"date_placed={new.order_item.order.date_placed.isoformat().replace('+00:00', 'Z')}", {new.pk}),
            (f"date_placed__gt={yesterday}", {new.pk}),
            (f"date_placed__gte={yesterday}", {new.pk}),
            (f"date_placed__lt={yesterday}", {old.pk}),
            (f"date_placed__lte={yesterday}", {old.pk}),
            (f"date_placed__date__gt={today}", set()),
            (f"date_placed__date__gte={today}", {new.pk}),
            (f"date_placed__date__lt={today}", {old.pk}),
            (f"date_placed__date__lte={today}", {old.pk, new.pk}),
            ("sku=sku-ada", {old.pk}),
            ("sku=nope", set()),
            (f"channel={channel.pk}", {old.pk, new.pk}),
            (f"channel={channel.pk + 1000}", set()),
            ("customer_first_name=ADA", {old.pk}),
            ("customer_first_name=Eve", set()),
            ("customer_last_name=marley", {new.pk}),
            ("customer_last_name=Nobody", set()),
            ("customer_email=ada@example.COM", {old.pk}),
            ("customer_email=eve@example.com", set()),
            (f"order_id={old.order_item.order_id}", {old.pk}),
            ("order_id=987654", set()),
            ("cancellation_plan_status=failed", {old.pk}),
            ("cancellation_plan_status=completed", set()),
            ("easy_return_code=ercode123", {new.pk}),
            ("easy_return_code=ERNOPE", set()),
            ("tracking_number=trk-42", {new.pk}),
            ("tracking_number=TRK-0", set()),
        ]
        for query, expected in cases:
            assert ids(query) == expected, query

    @pytest.mark.parametrize(
        "query",
        [
            "pk__in=1,x",
            "status=lost",
            "date_placed=yesterday",
            "date_placed__gt=2026-02-30T00:00:00Z",
            "date_placed__date__lte=13/01/2026",
            "channel=abc",
            "order_id=1.5",
            "customer_email=not-an-email",
            "cancellation_plan_status=maybe",
            "limit=0",
            "page=zero",
        ],
    )
    @pytest.mark.parametrize("detailed", ["", "detailed/"])
    def test_malformed_filters_are_400(self, channel_client, channel, query, detailed):
        response = channel_client.get(f"{base(channel)}{detailed}?{query}")
        assert response.status_code == 400
        assert query.split("=")[0] in response.json()

    def test_filters_are_in_the_schema(self, anon_client):
        import yaml

        schema = yaml.safe_load(anon_client.get("/api/schema/").content)
        for path in (
            "/api/channel/{channel_id}/cancellation_requests/",
            "/api/channel/{channel_id}/cancellation_requests/detailed/",
        ):
            names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
            assert {
                "pk__in",
                "status",
                "number",
                "date_placed",
                "date_placed__gt",
                "date_placed__gte",
                "date_placed__lt",
                "date_placed__lte",
                "date_placed__date__gt",
                "date_placed__date__gte",
                "date_placed__date__lt",
                "date_placed__date__lte",
                "sku",
                "channel",
                "customer_first_name",
                "customer_last_name",
                "customer_email",
                "order_id",
                "cancellation_plan_status",
                "easy_return_code",
                "tracking_number",
                "limit",
                "page",
            } <= names, path


class TestQueryBudget:
    @pytest.mark.parametrize("detailed", ["", "detailed/"])
    def test_lists_cost_the_same_queries_for_1_10_and_100_rows(
        self, channel_client, channel, cancel_reason, detailed, django_assert_max_num_queries
    ):
        reasons = [cancel_reason, CancellationReasonFactory(cancellation_type="cancel")]
        counts = []
        made = 0
        for size in (1, 10, 100):
            for n in range(made, size):
                order = order_with_items(channel=channel, customer=CustomerFactory(channel=channel))
                CancellationRequestFactory(
                    order_item=order.items.get(),
                    reason=reasons[n % 2],
                    easy_return=EasyReturnFactory() if n % 3 == 0 else None,
                )
            made = size
            with django_assert_max_num_queries(50) as captured:
                response = channel_client.get(f"{base(channel)}{detailed}?limit=100")
            assert response.json()["count"] == size
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1] == counts[2], counts
        with django_assert_max_num_queries(counts[0]):
            channel_client.get(f"{base(channel)}{detailed}?limit=100")


def test_a_channel_user_linked_to_two_channels_uses_both(cancel_reason):
    first, second = ChannelFactory(), ChannelFactory()
    client = auth_client(UserFactory(channels=[first, second]))
    for channel in (first, second):
        item = order_with_items(channel=channel).items.get()
        assert create(client, channel, item, cancel_reason).status_code == 201
