"""Batches leased at once on PostgreSQL: the rows of a batch are locked in id order, so workers leasing overlapping
batches in any order never deadlock and never lease one attempt twice; a row held by another writer is waited for,
then checked again."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from cancellations.services import order_cancel
from refunds.models import Refund
from refunds.rails import RailOutcome
from refunds.services import refunds_lease, refunds_record_outcomes
from tests.concurrency import run_together
from tests.factories import CancellationReasonFactory, order_with_items

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 10


def pending_refunds(count_orders: int) -> list[int]:
    """The refunds of `count_orders` whole cancels (two each), pending and due, not attempted yet."""
    reason = CancellationReasonFactory(cancellation_type="cancel")
    refund_ids = []
    for _ in range(count_orders):
        order = order_with_items(lines=[(Decimal("10.00"), 1)], shipping=Decimal("2.00"))
        item = order.items.get()
        plan = order_cancel(order_id=order.pk, is_all=True, reasons={item.pk: reason.pk})
        refund_ids += plan.refunds.values_list("pk", flat=True)
    # the cancels ran their refunds in-process: put them back as a crash would leave them, due again
    Refund.objects.filter(pk__in=refund_ids).update(status="pending", attempts=0, next_attempt_at=None)
    return sorted(refund_ids)


def test_overlapping_batches_in_opposite_orders_lease_each_refund_once():
    for _ in range(ROUNDS):
        ids = pending_refunds(2)
        forward, backward, middle = ids, list(reversed(ids)), ids[1:3]

        results = run_together(
            *(lambda batch=batch: refunds_lease(refund_ids=batch) for batch in (forward, backward, middle))
        )

        leased = [refund.pk for batch in results for refund in batch]
        assert sorted(leased) == ids  # each refund leased by exactly one batch
        assert set(Refund.objects.filter(pk__in=ids).values_list("status", "attempts")) == {("processing", 1)}


def test_a_row_held_by_another_writer_is_waited_for_then_checked_again():
    ids = pending_refunds(1)
    held = ids[1]
    locked, release = threading.Event(), threading.Event()

    def another_writer_settles_it():
        try:
            with transaction.atomic():
                Refund.objects.select_for_update().get(pk=held)
                locked.set()
                release.wait(timeout=30)
                Refund.objects.filter(pk=held).update(status="succeeded", modified_date=timezone.now())
        finally:
            connection.close()

    writer = threading.Thread(target=another_writer_settles_it)
    writer.start()
    assert locked.wait(timeout=30)
    threading.Timer(0.3, release.set).start()

    started = timezone.now()
    leased = refunds_lease(refund_ids=ids)
    writer.join(timeout=30)

    assert [refund.pk for refund in leased] == [ids[0]]  # the settled row is not leased
    assert timezone.now() - started >= timedelta(seconds=0.25)  # it waited for the writer
    assert Refund.objects.get(pk=held).status == "succeeded"


def test_outcomes_recorded_while_another_worker_takes_the_expired_leases_over_never_deadlock():
    unavailable = RailOutcome(succeeded=False, error="HTTP_503: gateway unavailable", retryable=True)
    for _ in range(ROUNDS):
        ids = pending_refunds(1)
        leased = refunds_lease(refund_ids=ids)
        # the first worker's leases ran out while it called the rail: another worker may take the refunds over
        Refund.objects.filter(pk__in=ids).update(leased_until=timezone.now() - timedelta(seconds=1))

        attempts, backward = [(refund, unavailable) for refund in leased], ids[::-1]
        recorded, taken_over = run_together(
            lambda attempts=attempts: refunds_record_outcomes(attempts),
            lambda backward=backward: refunds_lease(refund_ids=backward),
        )

        # each refund went one way: its outcome recorded under the first lease, or its lease taken over
        recorded_ids = {refund.pk for refund in recorded}
        taken_ids = {refund.pk for refund in taken_over}
        assert recorded_ids | taken_ids == set(ids)
        assert not recorded_ids & taken_ids
        for refund in Refund.objects.filter(pk__in=ids):
            expected = ("pending", 1) if refund.pk in recorded_ids else ("processing", 2)
            assert (refund.status, refund.attempts) == expected
