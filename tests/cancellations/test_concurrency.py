"""Concurrent cancels on PostgreSQL: row locks, not luck, keep one plan and one refund per item."""

from decimal import Decimal

import pytest

from cancellations.models import CancellationPlan
from refunds.models import Refund
from tests.concurrency import race
from tests.factories import CancellationReasonFactory, order_with_items

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def test_twenty_threads_cancelling_the_same_item_make_one_plan_and_one_refund():
    order = order_with_items(lines=[(Decimal("40.00"), 2), (Decimal("10.00"), 1)], shipping=Decimal("5.00"))
    item = order.items.order_by("id").first()
    reason = CancellationReasonFactory(cancellation_type="cancel")
    body = {"cancel_items": [item.pk], "reasons": {str(item.pk): reason.pk}}

    results = race(
        lambda client, _: client.post(f"/api/i1/orders/{order.pk}/cancel/", body, format="json"), threads=THREADS
    )

    statuses = sorted(status for status, _ in results)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) == {200, 400}
    assert CancellationPlan.objects.filter(order=order).count() == 1
    assert Refund.objects.filter(plan__order=order, kind="items").count() == 1
    item.refresh_from_db()
    assert item.cancelled_quantity == 2
    assert item.refund_amount == Decimal("80.00")  # settled once, in-process


def test_twenty_threads_with_one_idempotency_key_make_one_plan_and_the_same_answer():
    order = order_with_items(lines=[(Decimal("25.00"), 1), (Decimal("75.00"), 1)])
    item = order.items.order_by("id").first()
    reason = CancellationReasonFactory(cancellation_type="cancel")
    body = {"cancel_items": [item.pk], "reasons": {str(item.pk): reason.pk}}

    results = race(
        lambda client, _: client.post(
            f"/api/i1/orders/{order.pk}/cancel/", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key"
        ),
        threads=THREADS,
    )

    successes = [response.content for status, response in results if status == 200]
    assert successes, results
    assert all(status in (200, 409) for status, _ in results), [s for s, _ in results]
    assert len(set(successes)) == 1  # every 200 is the first response, byte for byte
    assert CancellationPlan.objects.filter(order=order).count() == 1
    assert Refund.objects.filter(plan__order=order).count() == 1


def test_concurrent_cancels_of_different_items_of_one_order_serialise_cleanly():
    order = order_with_items(lines=[(Decimal("10.00"), 1)] * 10, shipping=Decimal("3.00"))
    items = list(order.items.order_by("id"))
    reason = CancellationReasonFactory(cancellation_type="cancel")

    def send(client, index):
        item = items[index % len(items)]
        return client.post(
            f"/api/i1/orders/{order.pk}/cancel/",
            {"cancel_items": [item.pk], "reasons": {str(item.pk): reason.pk}},
            format="json",
        )

    results = race(send, threads=THREADS)

    assert sorted(status for status, _ in results).count(200) == 10
    order.refresh_from_db()
    assert order.status == "100"
    assert order.refund_amount == order.amount == Decimal("103.00")  # the last cancel took the shipping back too
    assert Refund.objects.filter(plan__order=order, kind="cargo").count() == 1
