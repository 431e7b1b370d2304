"""Who may take a refund's lease, and what the lease hands the rail: the same on every database (PostgreSQL takes
it in one statement, see refunds.lease)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from refunds.models import Refund, RefundStatus
from refunds.services import refund_lease
from tests.factories import RefundFactory, order_with_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def refund():
    order = order_with_items(lines=[(Decimal("10.00"), 1)], payment_reference="TX-9")
    order.attributes = {"source": "web"}
    order.save()
    return RefundFactory(order=order, channel=order.channel, amount=Decimal("10.00"))


@pytest.mark.parametrize(
    ("status", "changes"),
    [
        ("pending", {}),
        ("pending", {"next_attempt_at": -1}),
        ("processing", {"leased_until": -1}),
    ],
)
def test_a_due_refund_is_leased_once_with_its_order(refund, status, changes):
    now = timezone.now()
    Refund.objects.filter(pk=refund.pk).update(
        status=status, attempts=1, **{field: now + timedelta(seconds=s) for field, s in changes.items()}
    )

    leased = refund_lease(refund_id=refund.pk)

    assert leased is not None
    assert (leased.status, leased.attempts, leased.next_attempt_at) == (RefundStatus.PROCESSING, 2, None)
    assert leased.amount == Decimal("10.00")
    assert leased.leased_until > now
    stored = Refund.objects.get(pk=refund.pk)
    assert (stored.status, stored.attempts, stored.lease_token) == ("processing", 2, leased.lease_token)
    # the order came with it, converted as the ORM converts it
    assert leased.order.payment_reference == "TX-9"
    assert leased.order.attributes == {"source": "web"}
    assert leased.order.amount == refund.order.amount
    assert refund_lease(refund_id=refund.pk) is None  # the lease is live now


@pytest.mark.parametrize(
    ("status", "changes"),
    [
        ("pending", {"next_attempt_at": 60}),  # not due yet
        ("processing", {"leased_until": 60}),  # another worker's live lease
        ("processing", {}),  # waiting for an outside settlement (no lease)
        ("succeeded", {}),
        ("failed", {}),
    ],
)
def test_a_refund_that_is_not_due_is_left_alone(refund, status, changes):
    now = timezone.now()
    Refund.objects.filter(pk=refund.pk).update(
        status=status, **{field: now + timedelta(seconds=s) for field, s in changes.items()}
    )
    before = Refund.objects.get(pk=refund.pk)

    assert refund_lease(refund_id=refund.pk) is None
    after = Refund.objects.get(pk=refund.pk)
    assert (after.status, after.attempts, after.lease_token) == (before.status, before.attempts, before.lease_token)


def test_an_unknown_refund_is_none():
    assert refund_lease(refund_id=987654321) is None
