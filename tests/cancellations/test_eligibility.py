"""`GET .../orders/{id}/cancellation_eligibility/`: what cancel/ would accept, built on the same rules and pricing."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from cancellations.models import CancellationPlan
from tests.cancellations.conftest import snapshot
from tests.factories import CancellationReasonFactory, CancellationRequestFactory, StaffUserFactory, order_with_items

pytestmark = pytest.mark.django_db

IBAN = "TR330006100519786457841326"


def eligibility(client, order, prefix="/api/i1"):
    response = client.get(f"{prefix}/orders/{order.pk}/cancellation_eligibility/")
    assert response.status_code == 200, response.content
    return response.json()


def test_an_open_order_lists_every_item_with_its_refund_by_units(staff_client):
    order = order_with_items(lines=[(Decimal("10.00"), 3), (Decimal("5.00"), 1)], discount=Decimal("1.00"))
    first, second = order.items.order_by("id")

    body = eligibility(staff_client, order)

    assert body["order"] == order.pk
    assert body["cargo_refundable"] is False  # no shipping fee on this order
    assert [i["order_item"] for i in body["items"]] == [first.pk, second.pk]
    row = body["items"][0]
    assert (row["open_quantity"], row["cancellation_type"], row["can_cancel"], row["iban_required"]) == (
        3,
        "cancel",
        True,
        False,
    )
    # the line paid 30.00 less its 0.86 discount share: 29.14 over three units, the last unit takes the odd cent
    assert row["refund_by_quantity"] == {"1": "9.71", "2": "19.43", "3": "29.14"}
    assert row["refusals"] == []


def test_the_channel_path_shows_its_own_orders_only(channel_client, channel, other_channel):
    own = order_with_items(channel=channel)
    foreign = order_with_items(channel=other_channel)

    assert eligibility(channel_client, own, f"/api/channel/{channel.pk}")["order"] == own.pk
    assert eligibility(channel_client, own, f"/api/v1/channel/{channel.pk}")["order"] == own.pk
    response = channel_client.get(f"/api/channel/{channel.pk}/orders/{foreign.pk}/cancellation_eligibility/")
    assert response.status_code == 404
    assert channel_client.get(f"/api/i1/orders/{own.pk}/cancellation_eligibility/").status_code == 403


def test_refusals_are_the_ones_cancel_gives(staff_client):
    order = order_with_items(lines=[(Decimal("10.00"), 1)] * 3, shipping=Decimal("5.00"))
    waiting, approved, final = order.items.order_by("id")
    CancellationRequestFactory(order_item=waiting)
    waiting.cancel_status = "waiting"
    waiting.save()
    approved.cancel_status = "approved"
    approved.save()
    final.status = "100"
    final.cancelled_quantity = 1
    final.save()

    body = eligibility(staff_client, order)

    codes = {row["order_item"]: [r["code"] for r in row["refusals"]] for row in body["items"]}
    assert codes == {
        waiting.pk: ["item_has_waiting_request"],
        approved.pk: ["item_already_approved"],
        final.pk: ["item_already_cancelled"],
    }
    assert [row["can_cancel"] for row in body["items"]] == [False, False, False]
    assert body["items"][2]["cancellation_type"] is None
    assert body["items"][2]["refund_by_quantity"] == {}


def test_bank_transfer_orders_need_an_iban_and_pay_on_delivery_cancels_refund_nothing(staff_client):
    transfer = order_with_items(payment_option="funds_transfer")
    cash = order_with_items(payment_option="pay_on_delivery")
    returned = order_with_items(payment_option="pay_on_delivery", item_status="550")

    assert eligibility(staff_client, transfer)["items"][0]["iban_required"] is True
    cash_row = eligibility(staff_client, cash)["items"][0]
    assert (cash_row["iban_required"], cash_row["refund_by_quantity"]) == (False, {"1": "0.00"})
    returned_row = eligibility(staff_client, returned)["items"][0]
    assert (returned_row["cancellation_type"], returned_row["iban_required"]) == ("refund", True)


def test_cargo_refundable_follows_the_rules(staff_client, channel):
    order = order_with_items(channel=channel, shipping=Decimal("7.50"))
    assert eligibility(staff_client, order)["cargo_refundable"] is True

    channel.conf = {"cancellation_strategy": "no_cargo_refund"}
    channel.save()
    body = eligibility(staff_client, order)
    assert body["cargo_refundable"] is False
    assert [r["code"] for r in body["cargo_refusals"]] == ["cargo_refund_not_allowed"]


def test_a_large_quantity_lists_the_first_hundred_counts_and_the_whole(staff_client):
    order = order_with_items(lines=[(Decimal("1.00"), 250)])

    row = eligibility(staff_client, order)["items"][0]

    assert len(row["refund_by_quantity"]) == 101
    assert row["refund_by_quantity"]["100"] == "100.00"
    assert row["refund_by_quantity"]["250"] == "250.00"


def test_eligibility_changes_nothing(staff_client):
    order = order_with_items(lines=[(Decimal("10.00"), 2)])
    before = snapshot(order)

    eligibility(staff_client, order)

    assert snapshot(order) == before


# The property: an item listed as cancellable is accepted by cancel/ (with a reason of its type), at the refund
# listed for its units; an item listed with a refusal gets exactly that refusal from cancel/.

statuses = st.sampled_from(["200", "400", "450", "500", "550", "100", "600"])
cancel_statuses = st.sampled_from([None, "waiting", "approved", "rejected", "confirmed"])
payment_options = st.sampled_from(["credit_card", "funds_transfer", "pay_on_delivery", "loyalty_money"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    item_states=st.lists(
        st.tuples(statuses, cancel_statuses, st.integers(1, 4), st.integers(0, 4)), min_size=1, max_size=3
    ),
    payment_option=payment_options,
    pick=st.integers(0, 2),
)
def test_eligibility_never_disagrees_with_cancel(item_states, payment_option, pick):
    staff = StaffUserFactory()
    client = APIClient()
    client.force_authenticate(staff)
    reasons = {kind: CancellationReasonFactory(cancellation_type=kind).pk for kind in ("cancel", "refund")}
    order = order_with_items(
        lines=[(Decimal("12.34"), quantity) for _, _, quantity, _ in item_states], payment_option=payment_option
    )
    for item, (status, cancel_status, quantity, cancelled) in zip(order.items.order_by("id"), item_states, strict=True):
        item.status = status
        item.cancel_status = cancel_status
        item.cancelled_quantity = quantity if status in ("100", "600") else min(cancelled, quantity - 1)
        item.save()
        if cancel_status == "waiting":
            CancellationRequestFactory(order_item=item)
    rows = eligibility(client, order)["items"]
    row = rows[pick % len(rows)]

    body = {"cancel_items": [row["order_item"]], "reasons": {str(row["order_item"]): reasons["cancel"]}}
    if row["cancellation_type"]:
        body["reasons"] = {str(row["order_item"]): reasons[row["cancellation_type"]]}
    if row["iban_required"]:
        body["ibans"] = {str(row["order_item"]): IBAN}
        body["holder_names"] = {str(row["order_item"]): "Ayse Yilmaz"}
    response = client.post(f"/api/i1/orders/{order.pk}/cancel/", body, format="json")

    if row["can_cancel"]:
        assert response.status_code == 200, response.json()
        plan = CancellationPlan.objects.get(order=order)
        (plan_item,) = plan.items.all()
        assert plan_item.refund_amount == Decimal(row["refund_by_quantity"][str(row["open_quantity"])])
    else:
        assert response.status_code == 400
        assert response.json()["code"] == row["refusals"][0]["code"]
        assert not CancellationPlan.objects.filter(order=order).exists()
