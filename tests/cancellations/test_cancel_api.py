from decimal import Decimal
from unittest import mock

import pytest

from cancellations.models import CancellationPlan
from common.models import IdempotencyRecord
from orders.models import OrderEvent
from refunds.models import LoyaltyTransaction, Refund
from refunds.tasks import refunds_execute_task
from tests.cancellations.conftest import snapshot
from tests.factories import CancellationReasonFactory, ChannelFactory, order_with_items

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"
IBAN_SPACED = "DE89 3704 0044 0532 0130 00"
BAD_IBAN = "DE89370400440532013001"


def cancel(client, order, body, channel=None, **headers):
    path = f"/api/channel/{channel.pk}/orders/{order.pk}/cancel/" if channel else f"/api/i1/orders/{order.pk}/cancel/"
    return client.post(path, body, format="json", **headers)


def items_of(order):
    return list(order.items.order_by("id"))


@pytest.fixture
def three_item_order(channel):
    # values 100.00, 2 x 50.00, 3 x 33.33 = 299.99; discount 30.00; shipping 15.00 -> amount 284.99
    return order_with_items(
        channel=channel,
        lines=[(Decimal("100.00"), 1), (Decimal("50.00"), 2), (Decimal("33.33"), 3)],
        discount=Decimal("30.00"),
        shipping=Decimal("15.00"),
    )


class TestFullCancel:
    def test_is_all_cancels_every_item_and_refunds_items_and_shipping(
        self, staff_client, three_item_order, cancel_reason, django_capture_on_commit_callbacks
    ):
        order = three_item_order
        reasons = {str(i.pk): cancel_reason.pk for i in items_of(order)}

        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = cancel(staff_client, order, {"is_all": True, "reasons": reasons})

        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["id"] == order.pk
        assert [i["status"] for i in body["items"]] == ["100", "100", "100"]
        assert [i["cancel_status"] for i in body["items"]] == ["approved"] * 3
        assert [i["cancelled_quantity"] for i in body["items"]] == [1, 2, 3]
        assert body["status"] == "100"
        assert body["cancel_status"] == "approved"
        assert body["refund_amount"] == "0.00"  # nothing refunded yet: the refunds run after the commit
        plan = CancellationPlan.objects.get(order=order)
        assert (plan.plan_type, plan.status) == ("cancel", "waiting")
        refunds = {r.kind: r for r in plan.refunds.all()}
        assert refunds["items"].amount == Decimal("269.99")
        assert refunds["cargo"].amount == Decimal("15.00")
        assert {r.method for r in refunds.values()} == {"original_payment"}
        assert {r.status for r in refunds.values()} == {"pending"}
        assert len(callbacks) == 1  # one message for the plan's refunds, sent only on commit

        sent = mock.patch.object(refunds_execute_task, "apply_async", wraps=refunds_execute_task.apply_async)
        with sent as apply_async:
            callbacks[0]()
        apply_async.assert_called_once_with(([refunds["items"].pk, refunds["cargo"].pk],), countdown=None)

        plan.refresh_from_db()
        assert plan.status == "completed"
        assert {r.status for r in plan.refunds.all()} == {"succeeded"}
        order.refresh_from_db()
        assert order.refund_amount == order.amount == Decimal("284.99")
        assert order.shipping_refund_amount == Decimal("15.00")
        assert order.discount_refund_amount == Decimal("30.00")
        assert order.cancel_status == "confirmed"
        assert [(i.cancel_status, i.refund_amount) for i in items_of(order)] == [
            ("confirmed", Decimal("90.00")),
            ("confirmed", Decimal("90.00")),
            ("confirmed", Decimal("89.99")),
        ]
        types = list(OrderEvent.objects.filter(order=order).values_list("type", flat=True))
        assert "cancellation_planned" in types
        assert types.count("refund_succeeded") == 2
        assert "cancellation_completed" in types

    def test_in_process_tasks_complete_the_plan_before_the_response(
        self, staff_client, three_item_order, cancel_reason, django_capture_on_commit_callbacks
    ):
        reasons = {str(i.pk): cancel_reason.pk for i in items_of(three_item_order)}
        with django_capture_on_commit_callbacks(execute=True):
            response = cancel(staff_client, three_item_order, {"is_all": True, "reasons": reasons})
        assert response.status_code == 200
        assert CancellationPlan.objects.get().status == "completed"

    def test_return_details_false_answers_ids_only(self, staff_client, three_item_order, cancel_reason):
        item = items_of(three_item_order)[0]

        response = cancel(
            staff_client,
            three_item_order,
            {
                "order": three_item_order.pk,
                "cancel_items": [item.pk],
                "reasons": {str(item.pk): cancel_reason.pk},
                "return_details": False,
            },
        )

        assert response.status_code == 200
        assert response.json() == {"order": three_item_order.pk, "cancellation_plan": CancellationPlan.objects.get().pk}


class TestPartialCancel:
    def test_cancelling_some_items_leaves_the_rest_and_the_shipping(
        self, staff_client, three_item_order, cancel_reason, django_capture_on_commit_callbacks
    ):
        _first, second, _third = items_of(three_item_order)

        with django_capture_on_commit_callbacks(execute=True):
            response = cancel(
                staff_client,
                three_item_order,
                {"cancel_items": [second.pk], "reasons": {str(second.pk): cancel_reason.pk}},
            )

        assert response.status_code == 200
        plan = CancellationPlan.objects.get()
        assert [(r.kind, r.amount) for r in plan.refunds.all()] == [("items", Decimal("90.00"))]
        assert plan.status == "completed"
        three_item_order.refresh_from_db()
        assert three_item_order.status == "400"
        assert three_item_order.refund_amount == Decimal("90.00")
        assert three_item_order.shipping_refund_amount == Decimal("0.00")
        second.refresh_from_db()
        assert (second.status, second.cancelled_quantity, second.cancel_status) == ("100", 2, "confirmed")

    def test_cancelling_the_last_items_refunds_the_shipping_too(
        self, staff_client, three_item_order, cancel_reason, django_capture_on_commit_callbacks
    ):
        first, second, third = items_of(three_item_order)
        with django_capture_on_commit_callbacks(execute=True):
            cancel(
                staff_client,
                three_item_order,
                {"cancel_items": [first.pk], "reasons": {str(first.pk): cancel_reason.pk}},
            )
            cancel(
                staff_client,
                three_item_order,
                {
                    "cancel_items": [second.pk, third.pk],
                    "reasons": {str(second.pk): cancel_reason.pk, str(third.pk): cancel_reason.pk},
                },
            )

        last = CancellationPlan.objects.order_by("-id").first()
        assert sorted((r.kind, r.amount) for r in last.refunds.all()) == [
            ("cargo", Decimal("15.00")),
            ("items", Decimal("179.99")),
        ]
        three_item_order.refresh_from_db()
        assert three_item_order.refund_amount == three_item_order.amount
        assert three_item_order.status == "100"

    def test_repeating_a_cancel_without_a_key_is_refused(self, staff_client, three_item_order, cancel_reason):
        item = items_of(three_item_order)[0]
        body = {"cancel_items": [item.pk], "reasons": {str(item.pk): cancel_reason.pk}}
        assert cancel(staff_client, three_item_order, body).status_code == 200
        before = snapshot(three_item_order)

        response = cancel(staff_client, three_item_order, body)

        assert response.status_code == 400
        assert response.json()["code"] in {"item_already_approved", "item_already_cancelled"}
        assert snapshot(three_item_order) == before


class TestReturns:
    def test_returning_shipped_items_refunds_them_without_shipping(
        self, staff_client, channel, refund_reason, django_capture_on_commit_callbacks
    ):
        order = order_with_items(
            channel=channel,
            lines=[(Decimal("40.00"), 2), (Decimal("60.00"), 1)],
            shipping=Decimal("10.00"),
            item_status="550",
        )
        first, second = items_of(order)

        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = cancel(
                staff_client, order, {"cancel_items": [first.pk], "reasons": {str(first.pk): refund_reason.pk}}
            )

        assert response.status_code == 200, response.json()
        plan = CancellationPlan.objects.get()
        assert plan.plan_type == "refund"
        assert [(r.kind, r.amount) for r in plan.refunds.all()] == [("items", Decimal("80.00"))]
        first.refresh_from_db()
        assert first.status == "550"  # a return becomes "600" when its refund is done
        for callback in callbacks:
            callback()
        first.refresh_from_db()
        assert (first.status, first.cancel_status, first.refund_amount) == ("600", "confirmed", Decimal("80.00"))
        order.refresh_from_db()
        assert order.status == "550"

        with django_capture_on_commit_callbacks(execute=True):
            cancel(staff_client, order, {"is_all": True, "reasons": {str(second.pk): refund_reason.pk}})
        order.refresh_from_db()
        assert order.status == "600"
        assert order.refund_amount == Decimal("140.00")
        assert order.shipping_refund_amount == Decimal("0.00")

    def test_an_order_of_cancelled_and_returned_items_ends_refunded(
        self, staff_client, channel, cancel_reason, refund_reason, django_capture_on_commit_callbacks
    ):
        order = order_with_items(channel=channel, lines=[(Decimal("10.00"), 1), (Decimal("20.00"), 1)])
        first, second = items_of(order)
        staff_client.patch(f"/api/i1/order_items/{second.pk}/", {"status": "500"}, format="json")
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                cancel(
                    staff_client, order, {"cancel_items": [first.pk], "reasons": {str(first.pk): cancel_reason.pk}}
                ).status_code
                == 200
            )
            assert (
                cancel(
                    staff_client, order, {"cancel_items": [second.pk], "reasons": {str(second.pk): refund_reason.pk}}
                ).status_code
                == 200
            )
        order.refresh_from_db()
        assert [i.status for i in items_of(order)] == ["100", "600"]
        assert order.status == "600"


class TestCargoRefund:
    def test_cargo_refund_alone_then_twice(self, staff_client, three_item_order, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = cancel(staff_client, three_item_order, {"is_cargo_refund": True})

        assert response.status_code == 200, response.json()
        plan = CancellationPlan.objects.get()
        assert plan.is_cargo_refund
        assert plan.items.count() == 0
        assert [(r.kind, r.amount) for r in plan.refunds.all()] == [("cargo", Decimal("15.00"))]
        three_item_order.refresh_from_db()
        assert three_item_order.shipping_refund_amount == Decimal("15.00")
        assert three_item_order.refund_amount == Decimal("15.00")
        assert [i.cancel_status for i in items_of(three_item_order)] == [None, None, None]
        before = snapshot(three_item_order)

        again = cancel(staff_client, three_item_order, {"is_cargo_refund": True})

        assert again.status_code == 400
        assert again.json()["code"] == "cargo_already_refunded"
        assert snapshot(three_item_order) == before

    def test_cargo_is_not_refunded_again_when_the_last_items_are_cancelled(
        self, staff_client, three_item_order, cancel_reason, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            cancel(staff_client, three_item_order, {"is_cargo_refund": True})
            reasons = {str(i.pk): cancel_reason.pk for i in items_of(three_item_order)}
            cancel(staff_client, three_item_order, {"is_all": True, "reasons": reasons})
        three_item_order.refresh_from_db()
        assert three_item_order.shipping_refund_amount == Decimal("15.00")
        assert three_item_order.refund_amount == three_item_order.amount

    def test_an_order_without_shipping_has_no_cargo_to_refund(self, staff_client, channel):
        order = order_with_items(channel=channel)
        response = cancel(staff_client, order, {"is_cargo_refund": True})
        assert response.status_code == 400
        assert response.json()["code"] == "cargo_already_refunded"


class TestStrategies:
    def reasons(self, order, reason):
        return {str(i.pk): reason.pk for i in items_of(order)}

    def test_no_cargo_refund_never_refunds_shipping(self, staff_client, channel, three_item_order, cancel_reason):
        channel.conf = {"cancellation_strategy": "no_cargo_refund"}
        channel.save()
        before = snapshot(three_item_order)

        refused = cancel(staff_client, three_item_order, {"is_cargo_refund": True})

        assert refused.status_code == 400
        assert refused.json()["code"] == "cargo_refund_not_allowed"
        assert snapshot(three_item_order) == before
        cancel(
            staff_client, three_item_order, {"is_all": True, "reasons": self.reasons(three_item_order, cancel_reason)}
        )
        assert [r.kind for r in Refund.objects.all()] == ["items"]

    def test_cargo_on_request_refunds_shipping_only_when_asked(
        self, staff_client, channel, three_item_order, cancel_reason
    ):
        channel.conf = {"cancellation_strategy": "cargo_on_request"}
        channel.save()

        cancel(
            staff_client, three_item_order, {"is_all": True, "reasons": self.reasons(three_item_order, cancel_reason)}
        )
        assert [r.kind for r in Refund.objects.all()] == ["items"]
        assert cancel(staff_client, three_item_order, {"is_cargo_refund": True}).status_code == 200
        assert sorted(r.kind for r in Refund.objects.all()) == ["cargo", "items"]

    def test_default_strategy_from_settings(self, staff_client, settings, three_item_order, cancel_reason):
        settings.DEFAULT_CANCELLATION_STRATEGY = "no_cargo_refund"
        cancel(
            staff_client, three_item_order, {"is_all": True, "reasons": self.reasons(three_item_order, cancel_reason)}
        )
        assert [r.kind for r in Refund.objects.all()] == ["items"]

    def test_an_unknown_strategy_is_refused_when_the_channel_is_saved(self, staff_client, channel):
        response = staff_client.patch(
            f"/api/i1/channels/{channel.pk}/", {"conf": {"cancellation_strategy": "generous"}}, format="json"
        )
        assert response.status_code == 400
        assert "generous" in response.json()["conf"][0]
        channel.refresh_from_db()
        assert channel.conf == {}
        created = staff_client.post(
            "/api/i1/channels/", {"name": "X", "conf": {"cancellation_strategy": "cargo_on_request"}}, format="json"
        )
        assert created.status_code == 201


class TestForcedAmount:
    def test_forced_amount_replaces_the_items_total(
        self, staff_client, three_item_order, cancel_reason, django_capture_on_commit_callbacks
    ):
        first, second, _ = items_of(three_item_order)
        with django_capture_on_commit_callbacks(execute=True):
            response = cancel(
                staff_client,
                three_item_order,
                {
                    "cancel_items": [first.pk, second.pk],
                    "forced_refund_amount": "100.00",
                    "reasons": {str(first.pk): cancel_reason.pk, str(second.pk): cancel_reason.pk},
                },
            )
        assert response.status_code == 200
        plan = CancellationPlan.objects.get()
        assert plan.forced_refund_amount == Decimal("100.00")
        assert [(r.kind, r.amount) for r in plan.refunds.all()] == [("items", Decimal("100.00"))]
        assert sum(pi.refund_amount for pi in plan.items.all()) == Decimal("100.00")
        three_item_order.refresh_from_db()
        assert three_item_order.refund_amount == Decimal("100.00")

    @pytest.mark.parametrize(
        ("value", "code"),
        [
            ("-1.00", "forced_refund_amount_negative"),
            ("abc", "forced_refund_amount_invalid"),
            ("1.005", "forced_refund_amount_invalid"),
            ("NaN", "forced_refund_amount_invalid"),
            ("1e1", "forced_refund_amount_invalid"),  # a plain decimal only: no exponent
            ("10.", "forced_refund_amount_invalid"),
            ("Infinity", "forced_refund_amount_invalid"),
            (True, "forced_refund_amount_invalid"),
            ({"amount": 1}, "forced_refund_amount_invalid"),
            (10.5, None),  # a JSON number with at most two places is a plain decimal too
            ("284.99", None),  # the whole order is still refundable: allowed
            ("285.00", "forced_refund_amount_too_high"),
        ],
    )
    def test_forced_amount_checks(self, staff_client, three_item_order, cancel_reason, value, code):
        item = items_of(three_item_order)[0]
        before = snapshot(three_item_order)

        response = cancel(
            staff_client,
            three_item_order,
            {"cancel_items": [item.pk], "forced_refund_amount": value, "reasons": {str(item.pk): cancel_reason.pk}},
        )

        if code is None:
            assert response.status_code == 200
            return
        assert response.status_code == 400
        assert response.json()["code"] == code
        assert snapshot(three_item_order) == before


class TestRefundMethods:
    @pytest.mark.parametrize(
        ("payment_option", "status", "method"),
        [
            ("credit_card", "400", "original_payment"),
            ("financing", "400", "financing"),
            ("loyalty_money", "400", "loyalty_money"),
            ("credit_card", "550", "original_payment"),
            ("financing", "550", "financing"),
            ("loyalty_money", "550", "loyalty_money"),
        ],
    )
    def test_method_follows_the_payment_option(
        self, staff_client, channel, cancel_reason, refund_reason, payment_option, status, method
    ):
        order = order_with_items(
            channel=channel, payment_option=payment_option, financing_application_id="APP-1", item_status=status
        )
        item = items_of(order)[0]
        reason = refund_reason if status == "550" else cancel_reason

        response = cancel(staff_client, order, {"cancel_items": [item.pk], "reasons": {str(item.pk): reason.pk}})

        assert response.status_code == 200, response.json()
        assert [r.method for r in Refund.objects.all()] == [method]

    def test_loyalty_money_is_credited_to_the_customer(
        self, staff_client, channel, cancel_reason, django_capture_on_commit_callbacks
    ):
        order = order_with_items(channel=channel, payment_option="loyalty_money")
        item = items_of(order)[0]
        with django_capture_on_commit_callbacks(execute=True):
            cancel(staff_client, order, {"cancel_items": [item.pk], "reasons": {str(item.pk): cancel_reason.pk}})
        ledger = LoyaltyTransaction.objects.get()
        assert (ledger.customer_id, ledger.amount) == (order.customer_id, Decimal("100.00"))

    def test_pay_on_delivery_cancel_refunds_nothing_and_completes_at_once(self, staff_client, channel, cancel_reason):
        order = order_with_items(channel=channel, payment_option="pay_on_delivery", shipping=Decimal("5.00"))
        item = items_of(order)[0]

        response = cancel(staff_client, order, {"cancel_items": [item.pk], "reasons": {str(item.pk): cancel_reason.pk}})

        assert response.status_code == 200
        assert not Refund.objects.exists()
        plan = CancellationPlan.objects.get()
        assert plan.status == "completed"
        order.refresh_from_db()
        assert (order.status, order.refund_amount) == ("100", Decimal("0.00"))
        assert items_of(order)[0].cancel_status == "confirmed"

    def test_pay_on_delivery_return_goes_by_bank_transfer(self, staff_client, channel, refund_reason):
        order = order_with_items(channel=channel, payment_option="pay_on_delivery", item_status="550")
        item = items_of(order)[0]
        before = snapshot(order)
        missing = cancel(staff_client, order, {"cancel_items": [item.pk], "reasons": {str(item.pk): refund_reason.pk}})
        assert missing.status_code == 400
        assert missing.json()["code"] == "iban_required"
        assert snapshot(order) == before

        response = cancel(
            staff_client,
            order,
            {
                "cancel_items": [item.pk],
                "reasons": {str(item.pk): refund_reason.pk},
                "ibans": {str(item.pk): IBAN},
                "holder_names": {str(item.pk): "Ayse Yilmaz"},
            },
        )
        assert response.status_code == 200
        assert [r.method for r in Refund.objects.all()] == ["funds_transfer"]


class TestFundsTransfer:
    @pytest.fixture
    def order(self, channel):
        return order_with_items(channel=channel, payment_option="funds_transfer", lines=[(Decimal("10.00"), 1)] * 2)

    def body(self, order, reason, **extra):
        item = items_of(order)[0]
        return {"cancel_items": [item.pk], "reasons": {str(item.pk): reason.pk}, **extra}

    @pytest.mark.parametrize(
        ("ibans", "holders", "code"),
        [
            (None, None, "iban_required"),
            ({"ITEM": BAD_IBAN}, {"ITEM": "Ayse Yilmaz"}, "iban_invalid"),
            ({"ITEM": "not an iban"}, {"ITEM": "Ayse Yilmaz"}, "iban_invalid"),
            ({"ITEM": IBAN}, None, "holder_name_required"),
            ({"ITEM": IBAN}, {"ITEM": "   "}, "holder_name_required"),
        ],
    )
    def test_refused_without_a_valid_account(self, staff_client, order, cancel_reason, ibans, holders, code):
        item = items_of(order)[0]
        extra = {}
        if ibans:
            extra["ibans"] = {str(item.pk): v for v in ibans.values()}
        if holders:
            extra["holder_names"] = {str(item.pk): v for v in holders.values()}
        before = snapshot(order)

        response = cancel(staff_client, order, self.body(order, cancel_reason, **extra))

        assert response.status_code == 400
        assert response.json()["code"] == code
        assert snapshot(order) == before

    def test_a_valid_iban_is_stored_for_the_transfer_and_never_returned(self, staff_client, order, cancel_reason):
        item = items_of(order)[0]

        response = cancel(
            staff_client,
            order,
            self.body(
                order, cancel_reason, ibans={str(item.pk): IBAN_SPACED}, holder_names={str(item.pk): "Ayse Yilmaz"}
            ),
        )

        assert response.status_code == 200
        refund = Refund.objects.get()
        assert (refund.method, refund.iban, refund.holder_name) == ("funds_transfer", IBAN, "Ayse Yilmaz")
        assert IBAN not in response.content.decode()
        assert "0532013000" not in response.content.decode()


class TestRefusals:
    """Every refusal of the contract: 400 with its code, and nothing changed."""

    def refused(self, client, order, body, code, channel=None):
        before = snapshot(order)
        response = cancel(client, order, body, channel=channel)
        assert response.status_code == 400, response.json()
        assert response.json()["code"] == code
        assert snapshot(order) == before
        return response

    def test_shape(self, staff_client, three_item_order, cancel_reason):
        item = items_of(three_item_order)[0]
        reasons = {str(item.pk): cancel_reason.pk}
        self.refused(
            staff_client,
            three_item_order,
            {"is_all": True, "cancel_items": [item.pk], "reasons": reasons},
            "is_all_with_cancel_items",
        )
        self.refused(
            staff_client, three_item_order, {"is_cargo_refund": True, "is_all": True}, "cargo_refund_with_items"
        )
        self.refused(
            staff_client,
            three_item_order,
            {"is_cargo_refund": True, "cancel_items": [item.pk]},
            "cargo_refund_with_items",
        )
        self.refused(staff_client, three_item_order, {}, "nothing_to_cancel")
        self.refused(staff_client, three_item_order, {"cancel_items": []}, "nothing_to_cancel")
        self.refused(
            staff_client, three_item_order, {"cancel_items": [item.pk, item.pk], "reasons": reasons}, "duplicate_items"
        )
        self.refused(
            staff_client, three_item_order, {"order": three_item_order.pk + 1, "is_all": True}, "order_mismatch"
        )

    def test_items(self, staff_client, channel, three_item_order, cancel_reason):
        foreign = items_of(order_with_items(channel=channel))[0]
        self.refused(
            staff_client,
            three_item_order,
            {"cancel_items": [foreign.pk], "reasons": {str(foreign.pk): cancel_reason.pk}},
            "item_not_in_order",
        )
        self.refused(
            staff_client,
            three_item_order,
            {"cancel_items": [987654], "reasons": {"987654": cancel_reason.pk}},
            "item_not_in_order",
        )

    @pytest.mark.parametrize(
        ("status", "cancel_status", "code"),
        [
            ("100", None, "item_already_cancelled"),
            ("600", "confirmed", "item_already_cancelled"),
            ("400", "approved", "item_already_approved"),
            ("400", "waiting", "item_has_waiting_request"),
        ],
    )
    def test_item_states(self, staff_client, channel, cancel_reason, status, cancel_status, code):
        order = order_with_items(channel=channel, lines=[(Decimal("10.00"), 1), (Decimal("10.00"), 1)])
        item = items_of(order)[0]
        item.status, item.cancel_status = status, cancel_status
        item.save()
        self.refused(
            staff_client, order, {"cancel_items": [item.pk], "reasons": {str(item.pk): cancel_reason.pk}}, code
        )

    def test_reasons(self, staff_client, three_item_order, cancel_reason, refund_reason):
        item = items_of(three_item_order)[0]
        inactive = CancellationReasonFactory(is_active=False)
        self.refused(staff_client, three_item_order, {"cancel_items": [item.pk]}, "reason_missing")
        self.refused(
            staff_client,
            three_item_order,
            {"cancel_items": [item.pk], "reasons": {str(item.pk): 999999}},
            "reason_invalid",
        )
        self.refused(
            staff_client,
            three_item_order,
            {"cancel_items": [item.pk], "reasons": {str(item.pk): inactive.pk}},
            "reason_invalid",
        )
        self.refused(
            staff_client,
            three_item_order,
            {"cancel_items": [item.pk], "reasons": {str(item.pk): refund_reason.pk}},
            "reason_type_mismatch",
        )
        self.refused(
            staff_client,
            three_item_order,
            {"is_all": True, "reasons": {str(item.pk): cancel_reason.pk}},
            "reason_missing",
        )

    def test_cancel_and_return_in_one_call(self, staff_client, channel, cancel_reason, refund_reason):
        order = order_with_items(channel=channel, lines=[(Decimal("10.00"), 1), (Decimal("10.00"), 1)])
        first, second = items_of(order)
        second.status = "500"
        second.save()
        self.refused(
            staff_client,
            order,
            {
                "cancel_items": [first.pk, second.pk],
                "reasons": {str(first.pk): cancel_reason.pk, str(second.pk): cancel_reason.pk},
            },
            "mixed_cancel_and_refund",
        )
        self.refused(
            staff_client,
            order,
            {"is_all": True, "reasons": {str(first.pk): cancel_reason.pk}},
            "mixed_cancel_and_refund",
        )

    def test_everything_already_cancelled(self, staff_client, channel, cancel_reason):
        order = order_with_items(channel=channel, item_status="100")
        self.refused(staff_client, order, {"is_all": True}, "nothing_to_cancel")


class TestInputValidation:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"cancel_items": "1"}, "cancel_items"),
            ({"cancel_items": ["x"]}, "cancel_items"),
            ({"cancel_items": [1], "reasons": {"abc": 1}}, "reasons"),
            ({"cancel_items": [1], "reasons": [1]}, "reasons"),
            ({"is_all": "maybe"}, "is_all"),
            ({"is_all": True, "ibans": {"1": ["DE89"]}}, "ibans"),
            ({"order": "first", "is_all": True}, "order"),
        ],
    )
    def test_malformed_input_is_400(self, staff_client, three_item_order, body, field):
        before = snapshot(three_item_order)
        response = cancel(staff_client, three_item_order, body)
        assert response.status_code == 400
        assert field in response.json()
        assert snapshot(three_item_order) == before

    def test_unknown_order_is_404(self, staff_client):
        assert staff_client.post("/api/i1/orders/424242/cancel/", {"is_all": True}, format="json").status_code == 404

    @pytest.mark.parametrize(
        "body",
        [
            {"is_all": "maybe"},  # refused by the input serializer
            {"is_all": True, "cancel_items": [1]},  # refused by the service before it reads the order
            {"order": 1, "is_all": True},  # another order than the path's
        ],
    )
    def test_unknown_order_is_404_whatever_the_body(self, staff_client, body):
        response = staff_client.post("/api/i1/orders/424242/cancel/", body, format="json")
        assert response.status_code == 404

    @pytest.mark.parametrize("path", ["/api/i1/orders/424242/cancel/", "/api/i1/orders/424242/cancel/quote/"])
    def test_unknown_order_is_404_even_for_a_body_that_is_not_json(self, staff_client, path):
        response = staff_client.post(path, "{", content_type="application/json")
        assert response.status_code == 404


class TestChannelPath:
    def test_a_channel_cancels_its_own_order(self, channel_client, channel, three_item_order, cancel_reason):
        item = items_of(three_item_order)[0]
        response = cancel(
            channel_client,
            three_item_order,
            {"cancel_items": [item.pk], "reasons": {str(item.pk): cancel_reason.pk}},
            channel=channel,
        )
        assert response.status_code == 200
        assert CancellationPlan.objects.get().created_by.username == "shop"

    @pytest.mark.parametrize("body", [{"is_all": True}, {"is_all": "maybe"}, {"is_all": True, "cancel_items": [1]}])
    def test_another_channels_order_is_404_and_untouched(self, channel_client, channel, cancel_reason, body):
        foreign = order_with_items(channel=ChannelFactory())
        item = items_of(foreign)[0]
        before = snapshot(foreign)
        response = cancel(
            channel_client, foreign, {"reasons": {str(item.pk): cancel_reason.pk}, **body}, channel=channel
        )
        assert response.status_code == 404
        assert snapshot(foreign) == before
        assert not CancellationPlan.objects.exists()

    def test_channel_user_cannot_use_the_back_office_path(self, channel_client, three_item_order):
        assert cancel(channel_client, three_item_order, {"is_all": True}).status_code == 403
        assert cancel(channel_client, three_item_order, {"is_all": True}, channel=ChannelFactory()).status_code == 403


class TestFailureAndRetry:
    def test_a_refused_refund_fails_the_plan_and_a_retry_completes_it(
        self, staff_client, channel, cancel_reason, settings, django_capture_on_commit_callbacks
    ):
        order = order_with_items(channel=channel, payment_reference="sandbox-fail-1")
        item = items_of(order)[0]
        with django_capture_on_commit_callbacks(execute=True):
            cancel(staff_client, order, {"cancel_items": [item.pk], "reasons": {str(item.pk): cancel_reason.pk}})
        plan = CancellationPlan.objects.get()
        refund = plan.refunds.get()
        assert (plan.status, refund.status, refund.attempts) == ("failed", "failed", 1)
        assert "sandbox_declined" in refund.last_error
        order.refresh_from_db()
        assert order.refund_amount == Decimal("0.00")
        assert items_of(order)[0].cancel_status == "approved"

        order.payment_reference = "TX-fixed"
        order.save()
        from cancellations.services import plan_retry

        with django_capture_on_commit_callbacks(execute=True):
            plan_retry(plan_id=plan.pk)
        plan.refresh_from_db()
        refund.refresh_from_db()
        assert (plan.status, refund.status, refund.attempts) == ("completed", "succeeded", 2)
        order.refresh_from_db()
        assert order.refund_amount == Decimal("100.00")


class TestIdempotency:
    def body(self, order, reason):
        item = items_of(order)[0]
        return {"cancel_items": [item.pk], "reasons": {str(item.pk): reason.pk}}

    def test_a_repeat_with_the_same_key_replays_the_first_response(self, staff_client, three_item_order, cancel_reason):
        body = self.body(three_item_order, cancel_reason)
        first = cancel(staff_client, three_item_order, body, HTTP_IDEMPOTENCY_KEY="k-1")
        before = snapshot(three_item_order)

        second = cancel(staff_client, three_item_order, body, HTTP_IDEMPOTENCY_KEY="k-1")

        assert first.status_code == second.status_code == 200
        assert second.content == first.content
        assert second["Idempotent-Replayed"] == "true"
        assert snapshot(three_item_order) == before
        assert CancellationPlan.objects.count() == 1

    def test_a_refusal_is_replayed_too(self, staff_client, three_item_order):
        first = cancel(staff_client, three_item_order, {}, HTTP_IDEMPOTENCY_KEY="k-2")
        second = cancel(staff_client, three_item_order, {}, HTTP_IDEMPOTENCY_KEY="k-2")
        assert first.status_code == second.status_code == 400
        assert first.content == second.content

    def test_the_same_key_with_another_body_is_422(self, staff_client, three_item_order, cancel_reason):
        cancel(staff_client, three_item_order, self.body(three_item_order, cancel_reason), HTTP_IDEMPOTENCY_KEY="k-3")
        before = snapshot(three_item_order)

        response = cancel(staff_client, three_item_order, {"is_cargo_refund": True}, HTTP_IDEMPOTENCY_KEY="k-3")

        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"
        assert snapshot(three_item_order) == before

    def test_a_key_still_in_flight_is_409(self, staff_client, staff, three_item_order, cancel_reason):
        from common.api.idempotency import _fingerprint  # noqa: F401 - the record below stands for a running request

        body = self.body(three_item_order, cancel_reason)
        first = cancel(staff_client, three_item_order, body, HTTP_IDEMPOTENCY_KEY="k-4")
        IdempotencyRecord.objects.filter(key="k-4").update(state="in_flight", response_status=None, response_body="")
        record = IdempotencyRecord.objects.get(key="k-4")
        assert first.status_code == 200
        before = snapshot(three_item_order)

        response = cancel(staff_client, three_item_order, body, HTTP_IDEMPOTENCY_KEY="k-4")

        assert response.status_code == 409
        assert response.json()["code"] == "request_in_flight"
        assert snapshot(three_item_order) == before
        assert IdempotencyRecord.objects.get(pk=record.pk).state == "in_flight"

    def test_keys_are_per_user_and_expire_after_a_day(self, staff_client, three_item_order, cancel_reason):
        from datetime import timedelta

        from django.utils import timezone

        from tests.conftest import auth_client
        from tests.factories import StaffUserFactory

        body = self.body(three_item_order, cancel_reason)
        assert cancel(staff_client, three_item_order, body, HTTP_IDEMPOTENCY_KEY="k-5").status_code == 200
        other = auth_client(StaffUserFactory())
        # another user's same key is a new request: refused as a repeat, not replayed
        assert cancel(other, three_item_order, body, HTTP_IDEMPOTENCY_KEY="k-5").status_code == 400
        IdempotencyRecord.objects.update(created_date=timezone.now() - timedelta(hours=25))
        assert cancel(staff_client, three_item_order, body, HTTP_IDEMPOTENCY_KEY="k-5").status_code == 400

    def test_an_overlong_key_is_400(self, staff_client, three_item_order):
        response = cancel(staff_client, three_item_order, {}, HTTP_IDEMPOTENCY_KEY="k" * 300)
        assert response.status_code == 400


def test_a_financing_order_cannot_refund_its_shipping_alone(staff_client, channel):
    order = order_with_items(
        channel=channel, payment_option="financing", financing_application_id="APP-1", shipping=Decimal("9.00")
    )
    before = snapshot(order)

    response = cancel(staff_client, order, {"is_cargo_refund": True})

    assert response.status_code == 400
    assert response.json()["code"] == "cargo_refund_not_supported"
    assert snapshot(order) == before
