"""A rail call slower than expected never settles a refund twice: while its lease is live no one else takes the
refund, and once the lease is taken over only the new holder's outcome counts."""

import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cancellations.services import order_cancel
from orders.models import OrderEvent
from refunds.gateways import GatewayResult
from refunds.models import Refund
from refunds.rails import RailOutcome
from refunds.services import refund_execute, refund_lease, refund_record_outcome, refunds_due, refunds_sweep
from tests.factories import CancellationReasonFactory, order_with_items
from tests.processes import ROOT

pytestmark = pytest.mark.django_db


class InterferingGateway:
    """Calls `during_call` while the rail call is in flight (another worker, the sweeper, time passing)."""

    calls: list[str] = []
    during_call = None

    def refund(self, *, amount: Decimal, currency: str, payment_reference: str, idempotency_key: str) -> GatewayResult:
        InterferingGateway.calls.append(idempotency_key)
        interfere, InterferingGateway.during_call = InterferingGateway.during_call, None
        if interfere:
            interfere()
        return GatewayResult(succeeded=True, reference=f"ok-{len(InterferingGateway.calls)}")


@pytest.fixture
def refund(settings, django_capture_on_commit_callbacks):
    settings.REFUND_CARD_GATEWAY = "tests.refunds.test_lease_fencing.InterferingGateway"
    InterferingGateway.calls = []
    order = order_with_items(lines=[(Decimal("25.00"), 1)], payment_reference="TX-9")
    (item,) = order.items.all()
    reason = CancellationReasonFactory(cancellation_type="cancel")
    with django_capture_on_commit_callbacks(execute=False):  # the test runs the attempts itself
        plan = order_cancel(order_id=order.pk, item_ids=[item.pk], reasons={item.pk: reason.pk})
    return plan.refunds.get()


def succeeded_events(refund):
    return OrderEvent.objects.filter(order_id=refund.order_id, type="refund_succeeded").count()


def test_while_the_lease_is_live_the_sweeper_and_other_workers_leave_the_refund_alone(refund):
    def another_worker_and_the_sweeper():
        assert refunds_sweep() == []  # a live lease is not due
        assert refund_execute(refund_id=refund.pk) is None  # a duplicate delivery finds the refund leased

    InterferingGateway.during_call = another_worker_and_the_sweeper

    settled = refund_execute(refund_id=refund.pk)

    assert settled.status == "succeeded"
    assert len(InterferingGateway.calls) == 1
    assert succeeded_events(refund) == 1


def test_a_worker_whose_lease_was_taken_over_records_nothing(refund):
    # given: worker A leased the refund and is still calling the rail when its lease runs out; worker B takes over
    first = refund_lease(refund_id=refund.pk)
    Refund.objects.filter(pk=refund.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    assert refunds_due() == [refund.pk]  # an expired lease is due again
    second = refund_lease(refund_id=refund.pk)
    assert second.lease_token != first.lease_token

    # when: A's answer arrives while B is still calling, then B's
    late = refund_record_outcome(
        refund_id=refund.pk, outcome=RailOutcome(succeeded=True, reference="from-A"), leased=first
    )
    current = refund_record_outcome(
        refund_id=refund.pk, outcome=RailOutcome(succeeded=True, reference="from-B"), leased=second
    )

    # then: only the holder of the current lease settled the refund, once
    assert late is None
    assert current.status == "succeeded"
    refund.refresh_from_db()
    assert (refund.status, refund.gateway_reference, refund.attempts) == ("succeeded", "from-B", 2)
    assert succeeded_events(refund) == 1
    order = refund.order
    order.refresh_from_db()
    assert order.refund_amount == Decimal("25.00")


def test_a_late_failure_cannot_undo_the_current_holders_work(refund):
    first = refund_lease(refund_id=refund.pk)
    Refund.objects.filter(pk=refund.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    second = refund_lease(refund_id=refund.pk)

    assert (
        refund_record_outcome(refund_id=refund.pk, outcome=RailOutcome(succeeded=False, error="x"), leased=first)
        is None
    )
    refund.refresh_from_db()
    assert (refund.status, refund.lease_token) == ("processing", second.lease_token)


def test_the_service_refuses_a_lease_shorter_than_the_task_time_limit():
    env = {**os.environ, "REFUND_LEASE_SECONDS": "60", "CELERY_TASK_TIME_LIMIT": "90"}

    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode != 0
    assert "REFUND_LEASE_SECONDS (60) must outlive CELERY_TASK_TIME_LIMIT (90)" in done.stderr
