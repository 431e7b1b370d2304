"""A refund's outcome racing other writers of the same order, on PostgreSQL: every writer takes the order, its
items and the plan before any refund row (refunds.hooks), so none deadlocks and every plan ends consistent."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cancellations.models import CancellationPlan
from cancellations.services import order_cancel, plan_retry
from orders.models import Order
from refunds.models import Refund
from refunds.rails import RailOutcome
from refunds.services import refund_record_outcome
from tests.concurrency import run_together
from tests.factories import CancellationReasonFactory, order_with_items

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 8


def test_a_refund_outcome_races_a_cancel_and_a_retry_on_the_same_order(settings):
    reason = CancellationReasonFactory(cancellation_type="cancel")
    for _ in range(ROUNDS):
        race_once(settings, reason)


def race_once(settings, reason):
    # given: plan A's refund is being executed (leased), plan B failed, item 3 is still open
    order = order_with_items(lines=[(Decimal("10.00"), 1), (Decimal("20.00"), 1), (Decimal("30.00"), 1)])
    first, second, third = order.items.order_by("id")
    settings.SANDBOX_GATEWAY_MODE = "fail"
    plan_b = order_cancel(order_id=order.pk, item_ids=[second.pk], reasons={second.pk: reason.pk})
    assert CancellationPlan.objects.get(pk=plan_b.pk).status == "failed"
    settings.SANDBOX_GATEWAY_MODE = "unavailable"  # A fails retryably at first: pending, its plan waiting
    plan_a = order_cancel(order_id=order.pk, item_ids=[first.pk], reasons={first.pk: reason.pk})
    refund_a = plan_a.refunds.get()
    Refund.objects.filter(pk=refund_a.pk).update(
        status="processing", leased_until=timezone.now() + timedelta(minutes=1)
    )
    settings.SANDBOX_GATEWAY_MODE = "succeed"
    assert CancellationPlan.objects.get(pk=plan_a.pk).status == "waiting"

    # when: the outcome of A, the retry of B and a cancel of item 3, at once
    run_together(
        lambda: refund_record_outcome(refund_id=refund_a.pk, outcome=RailOutcome(succeeded=True, reference="A")),
        lambda: plan_retry(plan_id=plan_b.pk),
        lambda: order_cancel(order_id=order.pk, item_ids=[third.pk], reasons={third.pk: reason.pk}),
    )

    # then
    plans = CancellationPlan.objects.filter(order=order)
    assert sorted(plans.values_list("status", flat=True)) == ["completed"] * 3
    assert set(Refund.objects.filter(order=order).values_list("status", flat=True)) == {"succeeded"}
    order = Order.objects.get(pk=order.pk)
    assert (order.status, order.refund_amount) == ("100", Decimal("60.00"))
    assert set(order.items.values_list("status", "cancel_status")) == {("100", "confirmed")}
