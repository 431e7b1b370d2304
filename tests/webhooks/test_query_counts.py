"""What storefront syncs and webhooks cost the cancel call and a refund attempt: nothing for a channel without a
storefront and without listeners (decided from the channel row the paths already hold), one INSERT for a storefront
channel, and for a listened-to event its data, the subscriptions and one INSERT of all its deliveries."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cancellations.services import order_cancel
from refunds.services import refund_execute
from tests.cancellations.test_query_counts import queries_of
from tests.factories import CancellationReasonFactory, ChannelFactory, order_with_items
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db

STOREFRONT = {"storefront": {"kind": "shoplazza", "base_url": "https://demo.myshoplaza.com", "access_token": "t"}}


def channel_with(*, storefront=False, events=(), inactive_events=()):
    channel = ChannelFactory(conf=STOREFRONT if storefront else {})
    if events:
        webhook_create(channel=channel, url="https://hooks.example.com/a", events=list(events), secret="s" * 16)
    if inactive_events:
        webhook_create(
            channel=channel,
            url="https://hooks.example.com/b",
            events=list(inactive_events),
            secret="s" * 16,
            is_active=False,
        )
    channel.refresh_from_db()
    return channel


def cancel_queries(channel, capture, **order_kwargs) -> int:
    order = order_with_items(
        channel=channel,
        lines=[(Decimal("10.00"), 1), (Decimal("20.00"), 2)],
        payment_reference="TX-1",
        remote_id="R1",
        **order_kwargs,
    )
    reason = CancellationReasonFactory(cancellation_type="cancel")
    with CaptureQueriesContext(connection) as captured, capture(execute=False):
        order_cancel(order_id=order.pk, is_all=True, reasons={item.pk: reason.pk for item in order.items.all()})
    return len(queries_of(captured))


def refund_queries(channel, capture) -> int:
    order = order_with_items(
        channel=channel, lines=[(Decimal("10.00"), 1), (Decimal("20.00"), 1)], payment_reference="TX"
    )
    reason = CancellationReasonFactory(cancellation_type="cancel")
    first = order.items.order_by("id").first()
    with capture(execute=False):
        plan = order_cancel(order_id=order.pk, item_ids=[first.pk], reasons={first.pk: reason.pk})
    with CaptureQueriesContext(connection) as captured, capture(execute=False):
        refund_execute(refund_id=plan.refunds.get().pk)
    return len(queries_of(captured))


def test_no_storefront_and_no_listener_cost_nothing(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    baseline = cancel_queries(ChannelFactory(), capture)
    # listeners of other events only, and inactive listeners, change nothing
    quiet = channel_with(events=["cancellation_request.created"], inactive_events=["cancellation_plan.created"])

    assert cancel_queries(quiet, capture) == baseline
    assert refund_queries(quiet, capture) == refund_queries(ChannelFactory(), capture)


def test_a_storefront_channel_pays_one_insert(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    baseline = cancel_queries(ChannelFactory(), capture)

    assert cancel_queries(channel_with(storefront=True), capture) == baseline + 1


def test_listened_events_cost_their_data_and_one_insert(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    baseline = cancel_queries(ChannelFactory(), capture)
    refund_baseline = refund_queries(ChannelFactory(), capture)

    # the subscriptions (1), the plan with its items and refunds (3), all deliveries in one INSERT (1)
    assert cancel_queries(channel_with(events=["cancellation_plan.created"]), capture) == baseline + 5
    # with the order's data too: its items with their products, the order and its customer (1 more) in the same
    # INSERT
    both = channel_with(events=["cancellation_plan.created", "order.cancelled"])
    assert cancel_queries(both, capture) == baseline + 6
    # a refund's data is the refund row in hand: the subscriptions (1) and the INSERT (1)
    assert refund_queries(channel_with(events=["refund.succeeded"]), capture) == refund_baseline + 2


def test_a_plan_created_and_completed_by_one_cancel_is_read_once(django_capture_on_commit_callbacks):
    # Nothing to pay back: the cancel completes its plan at once and reports it created and completed, both events
    # built from one read of the plan and written in the same INSERT.
    capture = django_capture_on_commit_callbacks
    created = channel_with(events=["cancellation_plan.created"])
    both = channel_with(events=["cancellation_plan.created", "cancellation_plan.completed"])

    assert cancel_queries(both, capture, payment_option="pay_on_delivery") == cancel_queries(
        created, capture, payment_option="pay_on_delivery"
    )
