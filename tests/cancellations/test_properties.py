"""Money invariants over random orders and random sequences of partial cancels, returns and cargo refunds."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cancellations.services import order_cancel
from common.errors import ApplicationError
from orders.models import OrderStatus
from orders.services import order_item_status_update
from refunds.models import Refund, RefundStatus
from refunds.services import refund_execute
from tests.factories import CancellationReasonFactory, ChannelFactory, order_with_items

pytestmark = pytest.mark.django_db

prices = st.integers(min_value=1, max_value=50_000).map(lambda c: Decimal(c) / 100)
lines = st.lists(st.tuples(prices, st.integers(min_value=1, max_value=5)), min_size=1, max_size=4)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("cancel"), st.integers(0, 3), st.integers(1, 5)),
        st.tuples(st.just("ship"), st.integers(0, 3), st.just(0)),
        st.tuples(st.just("cargo"), st.just(0), st.just(0)),
    ),
    max_size=10,
)


def settle(order):
    for refund_id in Refund.objects.filter(plan__order=order, status=RefundStatus.PENDING).values_list("pk", flat=True):
        refund_execute(refund_id=refund_id)


def check_invariants(order):
    order.refresh_from_db()
    reserved = sum((r.amount for r in Refund.objects.filter(plan__order=order)), Decimal(0))
    assert order.refund_amount <= order.amount
    assert reserved <= order.amount
    assert order.shipping_refund_amount <= order.shipping_amount
    for item in order.items.all():
        assert item.refund_amount <= item.amount
        assert item.cancelled_quantity <= item.quantity


def cancel_units(order, item, quantity, reasons):
    reason = reasons["refund" if OrderStatus.is_shipped(item.status) else "cancel"]
    order_cancel(order_id=order.pk, item_ids=[item.pk], quantities={item.pk: quantity}, reasons={item.pk: reason})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=lines,
    discount_ratio=st.integers(0, 100),
    shipping=st.integers(0, 5_000).map(lambda c: Decimal(c) / 100),
    operations=operations,
    strategy=st.sampled_from(["default", "cargo_on_request"]),
)
def test_refunds_never_exceed_what_was_paid_and_add_up_exactly(lines, discount_ratio, shipping, operations, strategy):
    # given
    subtotal = sum((price * quantity for price, quantity in lines), Decimal(0))
    discount = (subtotal * discount_ratio / 100).quantize(Decimal("0.01"))
    channel = ChannelFactory(conf={"cancellation_strategy": strategy})
    order = order_with_items(channel=channel, lines=lines, discount=discount, shipping=shipping)
    reasons = {kind: CancellationReasonFactory(cancellation_type=kind).pk for kind in ("cancel", "refund")}
    items = list(order.items.order_by("id"))

    # when: a random sequence of partial cancels, returns and cargo refunds, each settled at once
    for action, index, quantity in operations:
        item = items[index % len(items)]
        item.refresh_from_db()
        try:
            if action == "cancel":
                cancel_units(order, item, min(quantity, max(item.open_quantity, 1)), reasons)
            elif action == "ship" and int(item.status) < int(OrderStatus.SHIPPED):
                order_item_status_update(item_id=item.pk, status="500")
            elif action == "cargo":
                order_cancel(order_id=order.pk, is_cargo_refund=True)
        except ApplicationError:
            pass  # a refusal changes nothing; the invariants below still hold
        settle(order)
        check_invariants(order)

    # then: once everything is cancelled or returned and the shipping refunded, exactly `amount` went back
    for item in items:
        item.refresh_from_db()
        if item.open_quantity:
            cancel_units(order, item, item.open_quantity, reasons)
            settle(order)
    order.refresh_from_db()
    if order.shipping_refund_amount < order.shipping_amount:
        order_cancel(order_id=order.pk, is_cargo_refund=True)
        settle(order)
    check_invariants(order)
    order.refresh_from_db()
    assert order.refund_amount == order.amount
    assert order.discount_refund_amount == order.discount_amount
    for item in order.items.all():
        assert item.refund_amount == item.amount
    assert order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=lines, forced=st.lists(st.integers(0, 100_000).map(lambda c: Decimal(c) / 100), min_size=1, max_size=4))
def test_forced_amounts_never_take_the_order_over_what_was_paid(lines, forced):
    order = order_with_items(lines=lines, shipping=Decimal("9.99"))
    reason = CancellationReasonFactory(cancellation_type="cancel").pk
    items = list(order.items.order_by("id"))
    for index, amount in enumerate(forced):
        item = items[index % len(items)]
        try:
            order_cancel(
                order_id=order.pk,
                item_ids=[item.pk],
                quantities={item.pk: 1},
                reasons={item.pk: reason},
                forced_refund_amount=amount,
            )
        except ApplicationError as exc:
            assert exc.code in {"forced_refund_amount_too_high", "item_already_cancelled"}  # noqa: PT017
        settle(order)
        check_invariants(order)
