"""Round trips of the cancel call and of a refund, pinned: a change that adds a query per item, per refund or per
event fails here. Transaction statements (BEGIN, COMMIT, SAVEPOINT) are not counted: PostgreSQL sends none of
them as queries of their own."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cancellations.models import CancellationPlan
from cancellations.services import cancellation_request_approve, order_cancel
from refunds.models import Refund, RefundStatus
from refunds.services import refund_execute, refunds_execute
from tests.factories import CancellationReasonFactory, CancellationRequestFactory, order_with_items

pytestmark = pytest.mark.django_db

TRANSACTION_STATEMENTS = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def lease_queries(refunds: int = 1) -> int:
    """Taking the leases of a batch of refunds: one statement on PostgreSQL, whatever the batch's size; a locked read
    and a write per refund elsewhere."""
    return 1 if connection.vendor == "postgresql" else 2 * refunds


def outcome_queries(refunds: int) -> int:
    """Recording the outcomes of a batch's refunds that change the same fields (they all succeeded): one UPDATE on
    PostgreSQL, one per refund elsewhere."""
    return 1 if connection.vendor == "postgresql" else refunds


def plan_completion_queries(*, from_request: bool) -> int:
    """What a refund completing its plan adds to the plan's conditional UPDATE: nothing on PostgreSQL (the plan, its
    request, its type and refund totals in one statement); elsewhere the read of the plan's request, the request's
    UPDATE if any, and the read of the plan's type and totals."""
    if connection.vendor == "postgresql":
        return 0
    return 3 if from_request else 2


def queries_of(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if not q["sql"].upper().startswith(TRANSACTION_STATEMENTS)]


def three_item_order(**kwargs):
    return order_with_items(
        lines=[(Decimal("10.00"), 1), (Decimal("20.00"), 2), (Decimal("30.00"), 1)],
        shipping=Decimal("5.00"),
        payment_reference="TX-1",
        **kwargs,
    )


def test_a_whole_cancel_with_its_two_refunds_run_in_process(staff_client, django_capture_on_commit_callbacks):
    order = three_item_order()
    reason = CancellationReasonFactory(cancellation_type="cancel")
    body = {"is_all": True, "reasons": {str(item.pk): reason.pk for item in order.items.all()}}

    with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/api/i1/orders/{order.pk}/cancel/", body, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "100"
    assert CancellationPlan.objects.get(order=order).status == "completed"
    # the token (1); the cancel: lock order and items (2), reasons (1), the order's refunds so far (1), plan, its
    # items, its two refunds (3), item and order updates (2), events (1); the two refunds, one batch: their lease
    # (see lease_queries), the order lock (1), their outcomes (see outcome_queries), the plan's conditional
    # completion (1, see plan_completion_queries), the order's items with the plan's amounts, their update and the
    # order's (3), the events (1); the response: the order's items with the order joined (1)
    expected = 18 + lease_queries(refunds=2) + outcome_queries(2) + plan_completion_queries(from_request=False)
    assert len(queries_of(captured)) == expected, "\n".join(queries_of(captured))


@pytest.mark.parametrize(("refunds", "others"), [(1, 7), (2, 4)])
def test_one_refund_attempt(refunds, others, django_capture_on_commit_callbacks):
    order = three_item_order()
    reason = CancellationReasonFactory(cancellation_type="cancel")
    with django_capture_on_commit_callbacks(execute=False):
        plan = order_cancel(
            order_id=order.pk,
            is_all=True,
            reasons={item.pk: reason.pk for item in order.items.all()},
        )
    assert plan.refunds.count() == 2
    last = plan.refunds.order_by("id")[refunds - 1]
    if refunds == 1:  # the plan's other refund settled first: this attempt completes the plan
        other = plan.refunds.exclude(pk=last.pk).get()
        refund_execute(refund_id=other.pk)

    with CaptureQueriesContext(connection) as captured:
        refund_execute(refund_id=last.pk)

    assert Refund.objects.get(pk=last.pk).status == RefundStatus.SUCCEEDED
    # lease (see lease_queries), order lock (1), outcome (1), the plan's completion if no refund of it is left
    # unsucceeded (1), event (1); completing the plan adds the order's items with what the plan refunds on them (1),
    # their update (1) and the order's (1), and see plan_completion_queries; its events go in the one INSERT
    expected = others + lease_queries() + (plan_completion_queries(from_request=False) if refunds == 1 else 0)
    assert len(queries_of(captured)) == expected, "\n".join(queries_of(captured))


def test_a_plans_two_refunds_in_one_batch_take_one_lease_one_lock_and_one_completion(
    django_capture_on_commit_callbacks,
):
    order = three_item_order()
    reason = CancellationReasonFactory(cancellation_type="cancel")
    with django_capture_on_commit_callbacks(execute=False):
        plan = order_cancel(order_id=order.pk, is_all=True, reasons={item.pk: reason.pk for item in order.items.all()})
    refund_ids = sorted(plan.refunds.values_list("pk", flat=True))

    with CaptureQueriesContext(connection) as captured:
        recorded = refunds_execute(refund_ids=refund_ids)

    assert [refund.pk for refund in recorded] == refund_ids
    assert set(Refund.objects.filter(pk__in=refund_ids).values_list("status", flat=True)) == {"succeeded"}
    plan.refresh_from_db()
    assert plan.status == "completed"
    # lease (see lease_queries), order lock (1), the outcomes (see outcome_queries), the plan's completion (1), the
    # order's items with the plan's amounts (1), their update (1), the order's (1), the events in one INSERT (1)
    expected = 6 + lease_queries(refunds=2) + outcome_queries(2) + plan_completion_queries(from_request=False)
    assert len(queries_of(captured)) == expected, "\n".join(queries_of(captured))
    if connection.vendor == "postgresql":
        assert expected == 8  # 4 a refund


def test_the_refund_completing_a_requested_plan_completes_the_request_within_eight_queries(
    django_capture_on_commit_callbacks,
):
    # given: a request approved into a plan of one refund (the item), not run yet
    order = three_item_order()
    item = order.items.order_by("id").first()
    request = CancellationRequestFactory(
        order_item=item, reason=CancellationReasonFactory(cancellation_type="cancel"), quantity=1
    )
    with django_capture_on_commit_callbacks(execute=False):
        cancellation_request_approve(request_id=request.pk)
    request.refresh_from_db()
    refund = Refund.objects.get(plan_id=request.cancellation_plan_id)

    # when
    with CaptureQueriesContext(connection) as captured:
        refund_execute(refund_id=refund.pk)

    # then: the plan and its request are completed, on PostgreSQL in the budget of any refund (8)
    request.refresh_from_db()
    assert (request.status, request.cancellation_plan.status) == ("completed", "completed")
    expected = 7 + lease_queries() + plan_completion_queries(from_request=True)
    assert len(queries_of(captured)) == expected, "\n".join(queries_of(captured))
    if connection.vendor == "postgresql":
        assert expected == 8
