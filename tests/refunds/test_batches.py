"""A plan's refunds travel in one message and are attempted as one batch: one lease, one rail call each, their
outcomes recorded in one transaction per order, the plan completed or failed once. What a batch records is what the
same refunds attempted one by one would record."""

import uuid
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from celery import current_app
from django.utils import timezone

from cancellations.models import CancellationPlan
from cancellations.services import order_cancel
from orders.models import OrderEvent
from refunds import services
from refunds.gateways import GatewayResult
from refunds.models import Refund
from refunds.rails import RailOutcome
from refunds.services import refund_enqueue, refunds_execute, refunds_lease, refunds_record_outcomes, refunds_sweep
from refunds.tasks import refund_execute_task, refunds_execute_task
from tests.factories import CancellationReasonFactory, order_with_items

pytestmark = pytest.mark.django_db

UNAVAILABLE = GatewayResult(succeeded=False, error="HTTP_503: gateway unavailable", retryable=True)
DECLINED = GatewayResult(succeeded=False, error="card_expired: the card is no longer valid")


def whole_cancel(channel, django_capture_on_commit_callbacks, *, price=Decimal("25.00")):
    """A whole cancel of an order with a shipping fee: a plan of two refunds (the items, then the shipping fee), not
    attempted yet."""
    order = order_with_items(channel=channel, lines=[(price, 2)], shipping=Decimal("5.00"))
    item = order.items.get()
    reason = CancellationReasonFactory(cancellation_type="cancel")
    with django_capture_on_commit_callbacks(execute=False):
        plan = order_cancel(order_id=order.pk, is_all=True, reasons={item.pk: reason.pk})
    return plan, sorted(plan.refunds.values_list("pk", flat=True))


def event_types(plan) -> list[str]:
    events = OrderEvent.objects.filter(order_id=plan.order_id).order_by("id")
    return [event.type for event in events if event.type.startswith(("refund_", "cancellation_"))]


def test_a_whole_cancel_sends_its_plans_refunds_in_one_message_on_commit(channel, django_capture_on_commit_callbacks):
    order = order_with_items(channel=channel, lines=[(Decimal("25.00"), 2)], shipping=Decimal("5.00"))
    item = order.items.get()
    reason = CancellationReasonFactory(cancellation_type="cancel")
    with (
        mock.patch.object(refunds_execute_task, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        plan = order_cancel(order_id=order.pk, is_all=True, reasons={item.pk: reason.pk})

    apply_async.assert_called_once_with((sorted(plan.refunds.values_list("pk", flat=True)),), countdown=None)


def test_a_batch_settles_both_refunds_and_completes_the_plan_once(
    channel, scripted_gateway, django_capture_on_commit_callbacks
):
    plan, refund_ids = whole_cancel(channel, django_capture_on_commit_callbacks)

    recorded = refunds_execute(refund_ids=refund_ids)

    assert [(refund.pk, refund.status) for refund in recorded] == [(pk, "succeeded") for pk in refund_ids]
    assert len(scripted_gateway.calls) == 2
    plan.refresh_from_db()
    assert plan.status == "completed"
    order = plan.order
    order.refresh_from_db()
    assert (order.refund_amount, order.shipping_refund_amount) == (Decimal("55.00"), Decimal("5.00"))
    assert event_types(plan) == [
        "cancellation_planned",
        "refund_succeeded",
        "refund_succeeded",
        "cancellation_completed",
    ]


def test_a_batch_records_what_the_same_refunds_one_by_one_record(
    channel, scripted_gateway, django_capture_on_commit_callbacks
):
    one_by_one, ids = whole_cancel(channel, django_capture_on_commit_callbacks)
    for refund_id in ids:
        services.refund_execute(refund_id=refund_id)
    batched, batch_ids = whole_cancel(channel, django_capture_on_commit_callbacks)
    refunds_execute(refund_ids=batch_ids)

    def outcome(plan):
        plan.refresh_from_db()
        plan.order.refresh_from_db()
        refunds = plan.refunds.order_by("id").values_list("kind", "status", "attempts", "amount")
        items = plan.order.items.values_list("status", "cancel_status", "refund_amount")
        money = (plan.order.refund_amount, plan.order.shipping_refund_amount, plan.order.discount_refund_amount)
        return plan.status, list(refunds), list(items), money, plan.order.cancel_status, event_types(plan)

    assert outcome(batched) == outcome(one_by_one)


def test_a_declined_refund_fails_the_plan_and_its_succeeded_sibling_stays_recorded(
    channel, scripted_gateway, django_capture_on_commit_callbacks
):
    plan, (items_id, cargo_id) = whole_cancel(channel, django_capture_on_commit_callbacks)
    scripted_gateway.reset(script=[GatewayResult(succeeded=True, reference="ok-items"), DECLINED])

    refunds_execute(refund_ids=[items_id, cargo_id])

    statuses = dict(Refund.objects.filter(plan=plan).values_list("pk", "status"))
    assert statuses == {items_id: "succeeded", cargo_id: "failed"}
    plan.refresh_from_db()
    assert plan.status == "failed"
    assert event_types(plan) == ["cancellation_planned", "refund_succeeded", "refund_failed", "cancellation_failed"]
    plan.order.refresh_from_db()
    assert plan.order.refund_amount == Decimal("0.00")  # the order records a plan's money when the plan completes


@pytest.fixture
def through_a_broker():
    """Tasks are sent, not run in-process (the tests run them in-process otherwise)."""
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = False
    yield
    current_app.conf.task_always_eager = previous


def test_a_retryable_failure_is_sent_again_alone_once_due(
    channel, scripted_gateway, django_capture_on_commit_callbacks, settings, through_a_broker
):
    settings.REFUND_RETRY_BASE_DELAY = 10
    plan, (items_id, cargo_id) = whole_cancel(channel, django_capture_on_commit_callbacks)
    scripted_gateway.reset(script=[UNAVAILABLE])  # the items' call; the shipping fee's succeeds
    with (
        mock.patch.object(refunds_execute_task, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        refunds_execute(refund_ids=[items_id, cargo_id])

    items = Refund.objects.get(pk=items_id)
    assert (items.status, items.attempts) == ("pending", 1)
    assert Refund.objects.get(pk=cargo_id).status == "succeeded"
    ((args, kwargs),) = apply_async.call_args_list
    assert args == (([items_id],),)
    assert 10 <= kwargs["countdown"] <= 15
    assert abs((items.next_attempt_at - timezone.now()).total_seconds() - kwargs["countdown"]) < 2
    plan.refresh_from_db()
    assert plan.status == "waiting"


def test_a_batch_leases_only_what_is_due_in_id_order_under_one_token(
    channel, scripted_gateway, django_capture_on_commit_callbacks
):
    first, first_ids = whole_cancel(channel, django_capture_on_commit_callbacks)
    second, second_ids = whole_cancel(channel, django_capture_on_commit_callbacks)
    not_due = second_ids[1]
    Refund.objects.filter(pk=not_due).update(next_attempt_at=timezone.now() + timedelta(minutes=5))

    leased = refunds_lease(refund_ids=[second_ids[0], not_due, *reversed(first_ids), 987654321])

    assert [refund.pk for refund in leased] == [*first_ids, second_ids[0]]
    assert len({refund.lease_token for refund in leased}) == 1
    assert {refund.order.pk for refund in leased} == {first.order_id, second.order_id}
    assert Refund.objects.get(pk=not_due).status == "pending"


def test_a_batch_of_two_orders_records_each_order_apart(channel, scripted_gateway, django_capture_on_commit_callbacks):
    first, first_ids = whole_cancel(channel, django_capture_on_commit_callbacks)
    second, second_ids = whole_cancel(channel, django_capture_on_commit_callbacks, price=Decimal("40.00"))

    recorded = refunds_execute(refund_ids=[*second_ids, *first_ids])

    assert sorted(refund.pk for refund in recorded) == sorted([*first_ids, *second_ids])
    for plan, total in [(first, Decimal("55.00")), (second, Decimal("85.00"))]:
        plan.refresh_from_db()
        plan.order.refresh_from_db()
        assert (plan.status, plan.order.refund_amount) == ("completed", total)


def test_the_sweeper_sends_a_message_per_plan(channel, django_capture_on_commit_callbacks):
    _, first_ids = whole_cancel(channel, django_capture_on_commit_callbacks)
    _, second_ids = whole_cancel(channel, django_capture_on_commit_callbacks)

    with mock.patch.object(refunds_execute_task, "apply_async") as apply_async:
        swept = refunds_sweep()

    assert sorted(swept) == sorted([*first_ids, *second_ids])
    assert [call.args[0] for call in apply_async.call_args_list] == [(first_ids,), (second_ids,)]


def test_an_empty_enqueue_sends_nothing(django_capture_on_commit_callbacks):
    with (
        mock.patch.object(refunds_execute_task, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        refund_enqueue(refund_ids=[])
    assert callbacks == []
    apply_async.assert_not_called()


def test_a_message_of_one_refund_as_earlier_releases_sent_is_still_taken(
    channel, scripted_gateway, django_capture_on_commit_callbacks
):
    plan, refund_ids = whole_cancel(channel, django_capture_on_commit_callbacks)

    for refund_id in refund_ids:
        refund_execute_task.delay(refund_id)

    assert set(Refund.objects.filter(plan=plan).values_list("status", flat=True)) == {"succeeded"}
    assert CancellationPlan.objects.get(pk=plan.pk).status == "completed"


def test_outcomes_are_written_only_under_each_refunds_own_lease(
    channel, scripted_gateway, django_capture_on_commit_callbacks
):
    plan, (items_id, cargo_id) = whole_cancel(channel, django_capture_on_commit_callbacks)
    leased = refunds_lease(refund_ids=[items_id, cargo_id])
    taken_over = uuid.uuid4()  # the cargo refund's lease ran out and another worker holds it now
    Refund.objects.filter(pk=cargo_id).update(lease_token=taken_over)
    succeeded = RailOutcome(succeeded=True, reference="ok")

    recorded = refunds_record_outcomes([(refund, succeeded) for refund in leased])

    assert [refund.pk for refund in recorded] == [items_id]
    cargo = Refund.objects.get(pk=cargo_id)
    assert (cargo.status, cargo.lease_token) == ("processing", taken_over)
    assert Refund.objects.get(pk=items_id).status == "succeeded"
    plan.refresh_from_db()
    assert plan.status == "waiting"  # its other refund is not settled: the plan waits for it
