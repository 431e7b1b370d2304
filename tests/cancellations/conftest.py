from decimal import Decimal

import pytest

from cancellations.models import CancellationPlan
from orders.models import Order, OrderEvent
from refunds.models import Refund
from tests.factories import CancellationReasonFactory


@pytest.fixture
def cancel_reason(db):
    return CancellationReasonFactory(cancellation_type="cancel", subject="Changed my mind")


@pytest.fixture
def refund_reason(db):
    return CancellationReasonFactory(cancellation_type="refund", subject="Damaged")


def snapshot(order: Order) -> dict:
    """Everything a refused cancellation must leave untouched."""
    order.refresh_from_db()
    return {
        "order": (
            order.status,
            order.cancel_status,
            order.refund_amount,
            order.discount_refund_amount,
            order.shipping_refund_amount,
        ),
        "items": [
            (i.pk, i.status, i.cancel_status, i.cancelled_quantity, i.refund_amount) for i in order.items.order_by("id")
        ],
        "plans": CancellationPlan.objects.filter(order=order).count(),
        "refunds": Refund.objects.filter(plan__order=order).count(),
        "events": OrderEvent.objects.filter(order=order).count(),
    }


def money(value: str) -> Decimal:
    return Decimal(value)
