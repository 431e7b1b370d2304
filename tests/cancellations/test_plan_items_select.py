"""The read of an order's items with what a plan refunds on each, compiled once (cancellations.services): the same
instances, annotations and types as the ORM's queryset gives."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F, FilteredRelation, Q

from cancellations.services import _plan_items_select, order_cancel
from orders.models import OrderItem
from tests.factories import CancellationReasonFactory, order_with_items

pytestmark = pytest.mark.django_db


def test_the_compiled_read_gives_what_the_orm_gives(django_capture_on_commit_callbacks):
    order = order_with_items(lines=[(Decimal("10.00"), 1), (Decimal("20.50"), 2), (Decimal("7.25"), 1)])
    first, second, third = order.items.order_by("id")
    reason = CancellationReasonFactory(cancellation_type="cancel")
    with django_capture_on_commit_callbacks(execute=False):
        plan = order_cancel(
            order_id=order.pk,
            item_ids=[first.pk, third.pk],
            reasons={first.pk: reason.pk, third.pk: reason.pk},
        )
        order_cancel(order_id=order.pk, item_ids=[second.pk], reasons={second.pk: reason.pk})  # another plan

    select = _plan_items_select(connection.vendor)
    compiled = [select.instance(row) for row in select.rows(plan=plan.pk, order=order.pk)]
    orm = list(
        OrderItem.objects.filter(order=order)
        .annotate(
            in_plan=FilteredRelation("plan_items", condition=Q(plan_items__plan_id=plan.pk)),
            plan_refund=F("in_plan__refund_amount"),
            plan_discount_refund=F("in_plan__discount_refund_amount"),
        )
        .order_by("id")
    )

    def shape(items):
        return [
            (item.pk, item.amount, item.status, item.cancel_status, item.plan_refund, item.plan_discount_refund)
            for item in items
        ]

    assert shape(compiled) == shape(orm)
    assert [item.plan_refund is None for item in compiled] == [False, True, False]  # the other plan's item
    assert all(isinstance(item.plan_refund, Decimal) for item in compiled if item.plan_refund is not None)
    assert select.rows(plan=plan.pk, order=987654321) == []
