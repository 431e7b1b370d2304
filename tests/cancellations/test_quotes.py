"""`POST .../orders/{id}/cancel/quote/`: the plan cancel/ would make, priced without being made, and committed
exactly by `cancel/` with its `quote_id`, or not at all."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cancellations.models import CancellationPlan, CancellationQuote
from orders.models import OrderItem
from tests.cancellations.conftest import snapshot
from tests.factories import order_with_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(channel):
    # values 30.00 and 20.00 share a 5.00 discount: 3.00 / 2.00; shipping 7.50
    return order_with_items(
        channel=channel,
        lines=[(Decimal("10.00"), 3), (Decimal("20.00"), 1)],
        discount=Decimal("5.00"),
        shipping=Decimal("7.50"),
    )


def body_for(order, reason, *items, **extra):
    items = items or tuple(order.items.order_by("id"))
    return {"cancel_items": [i.pk for i in items], "reasons": {str(i.pk): reason.pk for i in items}, **extra}


def quote(client, order, body, prefix="/api/i1"):
    return client.post(f"{prefix}/orders/{order.pk}/cancel/quote/", body, format="json")


def test_a_quote_shows_the_plan_and_writes_nothing_else(staff_client, order, cancel_reason):
    before = snapshot(order)

    response = quote(staff_client, order, body_for(order, cancel_reason))

    assert response.status_code == 200, response.json()
    body = response.json()
    first, second = order.items.order_by("id")
    assert body["plan_type"] == "cancel"
    assert body["items"] == [
        {"order_item": first.pk, "quantity": 3, "refund_amount": "27.00"},
        {"order_item": second.pk, "quantity": 1, "refund_amount": "18.00"},
    ]
    assert body["refunds"] == [
        {"kind": "items", "method": "original_payment", "amount": "45.00"},
        {"kind": "cargo", "method": "original_payment", "amount": "7.50"},
    ]
    assert body["total"] == "52.50"
    expires = timezone.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=14) < expires - timezone.now() <= timedelta(minutes=15)
    assert snapshot(order) == before
    assert CancellationQuote.objects.get(pk=body["quote_id"]).plan is None


def test_committing_the_quote_makes_exactly_that_plan(staff_client, order, cancel_reason):
    body = body_for(order, cancel_reason)
    quoted = quote(staff_client, order, body).json()

    response = staff_client.post(
        f"/api/i1/orders/{order.pk}/cancel/", {**body, "quote_id": quoted["quote_id"], "return_details": False},
        format="json",
    )  # fmt: skip

    assert response.status_code == 200, response.json()
    plan = CancellationPlan.objects.get(pk=response.json()["cancellation_plan"])
    assert [(i.order_item_id, i.quantity, str(i.refund_amount)) for i in plan.items.order_by("order_item_id")] == [
        (row["order_item"], row["quantity"], row["refund_amount"]) for row in quoted["items"]
    ]
    assert [(r.kind, r.method, str(r.amount)) for r in plan.refunds.order_by("id")] == [
        (row["kind"], row["method"], row["amount"]) for row in quoted["refunds"]
    ]
    assert CancellationQuote.objects.get(pk=quoted["quote_id"]).plan == plan


def test_a_quote_is_refused_exactly_as_cancel_would_be(staff_client, order, refund_reason):
    body = body_for(order, refund_reason)  # a refund reason for unshipped items

    quoted = quote(staff_client, order, body)
    cancelled = staff_client.post(f"/api/i1/orders/{order.pk}/cancel/", body, format="json")

    assert quoted.status_code == cancelled.status_code == 400
    assert quoted.json() == cancelled.json()
    assert CancellationQuote.objects.count() == 0


def test_the_order_changed_since_the_quote_is_409_quote_stale(staff_client, order, cancel_reason):
    first, second = order.items.order_by("id")
    body = body_for(order, cancel_reason, first)
    quoted = quote(staff_client, order, body).json()
    # meanwhile the other item is cancelled
    staff_client.post(f"/api/i1/orders/{order.pk}/cancel/", body_for(order, cancel_reason, second), format="json")
    before = snapshot(order)

    response = staff_client.post(
        f"/api/i1/orders/{order.pk}/cancel/", {**body, "quote_id": quoted["quote_id"]}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "quote_stale"
    assert snapshot(order) == before


def test_a_quote_is_used_once(staff_client, order, cancel_reason):
    first, _ = order.items.order_by("id")
    body = {**body_for(order, cancel_reason, first), "return_details": False}
    quoted = quote(staff_client, order, body).json()
    url = f"/api/i1/orders/{order.pk}/cancel/"

    assert staff_client.post(url, {**body, "quote_id": quoted["quote_id"]}, format="json").status_code == 200
    again = staff_client.post(url, {**body, "quote_id": quoted["quote_id"]}, format="json")

    assert (again.status_code, again.json()["code"]) == (409, "quote_stale")
    assert CancellationPlan.objects.filter(order=order).count() == 1


def test_an_expired_quote_is_400_quote_expired(staff_client, order, cancel_reason):
    body = body_for(order, cancel_reason)
    quoted = quote(staff_client, order, body).json()
    twenty_minutes_ago = timezone.now() - timedelta(minutes=20)
    CancellationQuote.objects.filter(pk=quoted["quote_id"]).update(
        created_date=twenty_minutes_ago, expires_at=twenty_minutes_ago + timedelta(minutes=15)
    )

    response = staff_client.post(
        f"/api/i1/orders/{order.pk}/cancel/", {**body, "quote_id": quoted["quote_id"]}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (400, "quote_expired")
    assert not CancellationPlan.objects.filter(order=order).exists()


@pytest.mark.parametrize(
    "change",
    [
        {"forced_refund_amount": "10.00"},
        {"is_all": True, "cancel_items": []},
        {"refund_invoice_number": "INV-9"},
    ],
)
def test_another_body_is_400_quote_mismatch(staff_client, order, cancel_reason, change):
    body = body_for(order, cancel_reason)
    quoted = quote(staff_client, order, body).json()

    response = staff_client.post(
        f"/api/i1/orders/{order.pk}/cancel/", {**body, **change, "quote_id": quoted["quote_id"]}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (400, "quote_mismatch")
    assert not CancellationPlan.objects.filter(order=order).exists()


def test_the_same_amount_written_otherwise_is_the_same_body(staff_client, order, cancel_reason):
    quoted = quote(staff_client, order, body_for(order, cancel_reason, forced_refund_amount="10.5")).json()

    response = staff_client.post(
        f"/api/i1/orders/{order.pk}/cancel/",
        {**body_for(order, cancel_reason, forced_refund_amount="10.50"), "quote_id": quoted["quote_id"]},
        format="json",
    )

    assert response.status_code == 200, response.json()


def test_an_unknown_or_foreign_quote_is_400(staff_client, order, cancel_reason, other_channel):
    other = order_with_items(channel=other_channel)
    foreign = quote(staff_client, other, body_for(other, cancel_reason)).json()
    body = body_for(order, cancel_reason)

    unknown = staff_client.post(
        f"/api/i1/orders/{order.pk}/cancel/", {**body, "quote_id": "00000000-0000-0000-0000-000000000000"},
        format="json",
    )  # fmt: skip
    crossed = staff_client.post(
        f"/api/i1/orders/{order.pk}/cancel/", {**body, "quote_id": foreign["quote_id"]}, format="json"
    )
    malformed = staff_client.post(f"/api/i1/orders/{order.pk}/cancel/", {**body, "quote_id": "nope"}, format="json")

    assert (unknown.status_code, unknown.json()["code"]) == (400, "quote_not_found")
    assert (crossed.status_code, crossed.json()["code"]) == (400, "quote_not_found")
    assert (malformed.status_code, malformed.json()["code"]) == (400, "invalid")


def test_the_channel_path_quotes_its_own_orders(channel_client, channel, other_channel, order, cancel_reason):
    foreign = order_with_items(channel=other_channel)

    own = quote(channel_client, order, body_for(order, cancel_reason), f"/api/channel/{channel.pk}")
    v1 = quote(channel_client, order, body_for(order, cancel_reason), f"/api/v1/channel/{channel.pk}")
    other = quote(channel_client, foreign, body_for(foreign, cancel_reason), f"/api/channel/{channel.pk}")

    assert (own.status_code, v1.status_code, other.status_code) == (200, 200, 404)
    assert quote(channel_client, order, body_for(order, cancel_reason)).status_code == 403


def test_a_partial_quote_then_commit_moves_the_items(staff_client, order, cancel_reason):
    first, second = order.items.order_by("id")
    body = {**body_for(order, cancel_reason, second), "return_details": False}
    quoted = quote(staff_client, order, body).json()

    staff_client.post(f"/api/i1/orders/{order.pk}/cancel/", {**body, "quote_id": quoted["quote_id"]}, format="json")

    assert OrderItem.objects.get(pk=second.pk).status == "100"
    assert OrderItem.objects.get(pk=first.pk).status == "400"
