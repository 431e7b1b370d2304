from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cancellations.models import CancellationPlan
from cancellations.services import order_cancel
from refunds.gateways import GatewayResult
from refunds.models import LoyaltyTransaction, Refund
from refunds.services import refund_execute, refunds_due, refunds_sweep, retry_delay
from tests.factories import CancellationReasonFactory, order_with_items

pytestmark = pytest.mark.django_db

UNAVAILABLE = GatewayResult(succeeded=False, error="HTTP_503: gateway unavailable", retryable=True)
DECLINED = GatewayResult(succeeded=False, error="card_expired: the card is no longer valid")


@pytest.fixture
def plan(channel):
    order = order_with_items(channel=channel, lines=[(Decimal("25.00"), 2)], shipping=Decimal("5.00"))
    item = order.items.get()
    reason = CancellationReasonFactory(cancellation_type="cancel")
    return order_cancel(order_id=order.pk, item_ids=[item.pk], reasons={item.pk: reason.pk})


def items_refund(plan):
    return plan.refunds.get(kind="items")


def due_now(refund):
    Refund.objects.filter(pk=refund.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_refund_runs_once_however_often_its_task_is_delivered(plan, scripted_gateway):
    refund = items_refund(plan)

    refund_execute(refund_id=refund.pk)
    refund_execute(refund_id=refund.pk)
    refund_execute(refund_id=refund.pk)

    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("succeeded", 1)
    assert scripted_gateway.calls.count(f"refund-{refund.uuid}") == 1


def test_retryable_failures_back_off_then_succeed_with_the_same_idempotency_key(plan, scripted_gateway):
    scripted_gateway.reset(script=[UNAVAILABLE, UNAVAILABLE])
    refund = items_refund(plan)

    refund_execute(refund_id=refund.pk)
    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.last_error) == ("pending", 1, UNAVAILABLE.error)
    assert refund.next_attempt_at > timezone.now()
    # not due yet: neither the task nor the sweeper take it
    assert refund_execute(refund_id=refund.pk) is None
    assert refund.pk not in refunds_due()

    due_now(refund)
    assert refund.pk in refunds_due()
    refund_execute(refund_id=refund.pk)
    due_now(refund)
    refund_execute(refund_id=refund.pk)

    refund.refresh_from_db()
    plan.refresh_from_db()
    assert (refund.status, refund.attempts, refund.last_error) == ("succeeded", 3, "")
    assert plan.status == "waiting"  # the cargo refund is still to run
    assert set(scripted_gateway.calls) == {f"refund-{refund.uuid}"}
    assert len(scripted_gateway.calls) == 3


def test_attempts_run_out_and_the_refund_fails_for_good(plan, scripted_gateway, settings):
    settings.REFUND_MAX_ATTEMPTS = 3
    scripted_gateway.reset(script=[UNAVAILABLE] * 5)
    refund = items_refund(plan)

    for _ in range(3):
        due_now(refund)
        refund_execute(refund_id=refund.pk)

    refund.refresh_from_db()
    plan.refresh_from_db()
    assert (refund.status, refund.attempts) == ("failed", 3)
    assert plan.status == "failed"
    assert len(scripted_gateway.calls) == 3


def test_a_refusal_fails_at_once(plan, scripted_gateway):
    scripted_gateway.reset(script=[DECLINED])
    refund = items_refund(plan)

    refund_execute(refund_id=refund.pk)

    refund.refresh_from_db()
    plan.refresh_from_db()
    assert (refund.status, refund.attempts, refund.last_error) == ("failed", 1, DECLINED.error)
    assert plan.status == "failed"
    assert refund.pk not in refunds_due()


def test_a_rail_that_raises_is_retried_not_stuck(plan, settings):
    settings.REFUND_CARD_GATEWAY = "tests.refunds.test_engine.ExplodingGateway"
    refund = items_refund(plan)

    refund_execute(refund_id=refund.pk)

    refund.refresh_from_db()
    assert refund.status == "pending"
    assert "RuntimeError: boom" in refund.last_error


class ExplodingGateway:
    def refund(self, **kwargs):
        raise RuntimeError("boom")


def test_retry_endpoint_puts_failed_refunds_back_and_keeps_attempts(
    staff_client, plan, scripted_gateway, django_capture_on_commit_callbacks
):
    scripted_gateway.reset(script=[DECLINED])
    refund = items_refund(plan)
    refund_execute(refund_id=refund.pk)
    plan.refresh_from_db()
    assert plan.status == "failed"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post(f"/api/i1/cancellation_plans/{plan.pk}/retry/")

    assert response.status_code == 200
    assert response.json()["status"] == "waiting"
    failed_again = next(r for r in response.json()["refunds"] if r["id"] == refund.pk)
    assert (failed_again["status"], failed_again["attempts"], failed_again["last_error"]) == (
        "pending",
        1,
        DECLINED.error,
    )
    assert len(callbacks) == 1
    for callback in callbacks:
        callback()
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("succeeded", 2)

    again = staff_client.post(f"/api/i1/cancellation_plans/{plan.pk}/retry/")
    assert again.status_code == 400
    assert again.json()["code"] == "plan_not_failed"


def test_retry_is_staff_only(channel_client, channel, plan):
    assert channel_client.post(f"/api/i1/cancellation_plans/{plan.pk}/retry/").status_code == 403
    assert channel_client.post(f"/api/channel/{channel.pk}/cancellation_plans/{plan.pk}/retry/").status_code == 404


def test_the_sweeper_resends_pending_and_expired_leases_only(
    plan, scripted_gateway, django_capture_on_commit_callbacks
):
    items, cargo = items_refund(plan), plan.refunds.get(kind="cargo")
    Refund.objects.filter(pk=items.pk).update(status="processing", leased_until=timezone.now() - timedelta(seconds=5))
    Refund.objects.filter(pk=cargo.pk).update(status="processing", leased_until=timezone.now() + timedelta(seconds=60))

    assert refunds_due() == [items.pk]
    refunds_sweep()  # tasks run in-process in tests

    items.refresh_from_db()
    cargo.refresh_from_db()
    assert items.status == "succeeded"
    assert cargo.status == "processing"  # a live lease belongs to its worker


def test_retry_delay_grows_exponentially_with_bounded_jitter(settings):
    settings.REFUND_RETRY_BASE_DELAY = 10
    settings.REFUND_RETRY_MAX_DELAY = 300
    for attempt, base in [(1, 10), (2, 20), (3, 40), (6, 300), (9, 300)]:
        delays = {retry_delay(attempt) for _ in range(20)}
        assert all(base <= d <= base * 1.5 for d in delays), (attempt, delays)
        assert len(delays) > 1  # jittered


class TestLoyaltyMoney:
    def test_credits_the_ledger_once_and_the_balance_is_the_sum(self, channel):
        order = order_with_items(channel=channel, payment_option="loyalty_money", lines=[(Decimal("12.50"), 2)])
        item = order.items.get()
        reason = CancellationReasonFactory(cancellation_type="cancel")
        plan = order_cancel(
            order_id=order.pk, item_ids=[item.pk], quantities={item.pk: 1}, reasons={item.pk: reason.pk}
        )
        refund = plan.refunds.get()

        refund_execute(refund_id=refund.pk)
        Refund.objects.filter(pk=refund.pk).update(status="pending")  # a duplicate delivery after a crash
        refund_execute(refund_id=refund.pk)

        assert LoyaltyTransaction.objects.filter(customer=order.customer).count() == 1
        second = order_cancel(order_id=order.pk, item_ids=[item.pk], reasons={item.pk: reason.pk})
        refund_execute(refund_id=second.refunds.get().pk)
        balance = sum(t.amount for t in LoyaltyTransaction.objects.filter(customer=order.customer))
        assert balance == Decimal("25.00")
        assert CancellationPlan.objects.filter(order=order, status="completed").count() == 2


def test_sweep_refunds_command_runs_due_refunds_in_process(plan, scripted_gateway):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sweep_refunds", stdout=out)

    assert "sent 2 refund(s)" in out.getvalue()
    plan.refresh_from_db()
    assert plan.status == "completed"
    assert len(scripted_gateway.calls) == 2
