"""The cancel sync to a Shoplazza storefront, against a loopback HTTP server playing the store."""

import json
import time
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone
from werkzeug import Response

from cancellations.services import order_cancel
from common.tasks import outbox_send_task
from orders.models import OrderEvent
from storefront.models import StorefrontSync
from storefront.services import STOREFRONT_OUTBOX
from tests.factories import CancellationReasonFactory, ChannelFactory, order_with_items

pytestmark = pytest.mark.django_db

TOKEN = "shpat-secret-token"
CANCEL_PATH = "/openapi/2022-01/orders/633130-00000004/cancel"


@pytest.fixture
def store_channel(httpserver):
    return ChannelFactory(
        channel_type="shoplaza",
        conf={"storefront": {"kind": "shoplazza", "base_url": httpserver.url_for("/"), "access_token": TOKEN}},
    )


@pytest.fixture
def reason():
    return CancellationReasonFactory(cancellation_type="cancel", subject="Customer changed their mind")


def store_order(channel, **kwargs):
    kwargs.setdefault("remote_id", "633130-00000004")
    return order_with_items(channel=channel, lines=[(Decimal("10.00"), 1), (Decimal("20.00"), 1)], **kwargs)


def cancel_all(order, reason, capture):
    with capture(execute=True):
        return order_cancel(order_id=order.pk, is_all=True, reasons={i.pk: reason.pk for i in order.items.all()})


def store_calls(httpserver) -> list:
    return [request for request, _ in httpserver.log]


def make_due(sync):
    StorefrontSync.objects.filter(pk=sync.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_whole_cancel_calls_the_store_once_with_the_path_header_and_body(
    httpserver, store_channel, reason, django_capture_on_commit_callbacks
):
    httpserver.expect_request(CANCEL_PATH, method="POST").respond_with_json({"order": {"status": "cancelled"}})
    order = store_order(store_channel)

    cancel_all(order, reason, django_capture_on_commit_callbacks)

    calls = store_calls(httpserver)
    assert len(calls) == 1
    assert calls[0].path == CANCEL_PATH
    assert calls[0].headers["access-token"] == TOKEN
    assert json.loads(calls[0].data) == {"reason": "Customer changed their mind"}
    sync = StorefrontSync.objects.get(order=order)
    assert (sync.status, sync.attempts, sync.response_status, sync.last_error) == ("succeeded", 1, 200, "")
    event = OrderEvent.objects.get(order=order, type="storefront_sync_attempted")
    assert event.payload["status"] == "succeeded"
    assert event.payload["status_code"] == 200
    # the same task delivered again (a redelivery, a sweeper pass) calls nobody
    STOREFRONT_OUTBOX.execute(sync.pk)
    STOREFRONT_OUTBOX.sweep()
    assert len(store_calls(httpserver)) == 1


def test_a_partial_cancel_is_recorded_skipped_and_not_sent(
    httpserver, store_channel, reason, django_capture_on_commit_callbacks
):
    order = store_order(store_channel)
    first = order.items.order_by("id").first()

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=order.pk, item_ids=[first.pk], reasons={first.pk: reason.pk})

    assert store_calls(httpserver) == []
    sync = StorefrontSync.objects.get(order=order)
    assert sync.status == "skipped"
    assert "partial cancel" in sync.last_error


def test_an_order_without_remote_id_is_skipped(httpserver, store_channel, reason, django_capture_on_commit_callbacks):
    order = store_order(store_channel, remote_id=None)

    cancel_all(order, reason, django_capture_on_commit_callbacks)

    assert store_calls(httpserver) == []
    assert StorefrontSync.objects.get(order=order).last_error.startswith("The order has no remote_id")


def test_a_return_is_skipped(httpserver, store_channel, django_capture_on_commit_callbacks):
    order = store_order(store_channel, item_status="550")
    returned = CancellationReasonFactory(cancellation_type="refund")

    cancel_all(order, returned, django_capture_on_commit_callbacks)

    assert store_calls(httpserver) == []
    sync = StorefrontSync.objects.get(order=order)
    assert sync.status == "skipped"
    assert "return" in sync.last_error


def test_a_channel_without_storefront_writes_no_sync(reason, django_capture_on_commit_callbacks):
    order = store_order(ChannelFactory())

    cancel_all(order, reason, django_capture_on_commit_callbacks)

    assert not StorefrontSync.objects.exists()


def test_503_then_200_succeeds_after_two_calls(httpserver, store_channel, reason, django_capture_on_commit_callbacks):
    httpserver.expect_ordered_request(CANCEL_PATH).respond_with_data("upstream down", status=503)
    httpserver.expect_ordered_request(CANCEL_PATH).respond_with_json({"order": {}})
    order = store_order(store_channel)

    cancel_all(order, reason, django_capture_on_commit_callbacks)

    sync = StorefrontSync.objects.get(order=order)
    assert (sync.status, sync.attempts, sync.response_status) == ("pending", 1, 503)
    assert "HTTP 503" in sync.last_error
    assert sync.next_attempt_at > timezone.now()
    assert STOREFRONT_OUTBOX.sweep() == []  # not due yet
    make_due(sync)
    STOREFRONT_OUTBOX.sweep()
    sync.refresh_from_db()
    assert (sync.status, sync.attempts, sync.last_error) == ("succeeded", 2, "")
    assert len(store_calls(httpserver)) == 2
    outcomes = [e.payload["status"] for e in OrderEvent.objects.filter(order=order, type="storefront_sync_attempted")]
    assert outcomes == ["pending", "succeeded"]


def test_429_waits_for_its_retry_after(httpserver, store_channel, reason, django_capture_on_commit_callbacks):
    httpserver.expect_ordered_request(CANCEL_PATH).respond_with_response(
        Response(json.dumps({"error": "rate limited"}), status=429, headers={"Retry-After": "120"})
    )
    httpserver.expect_ordered_request(CANCEL_PATH).respond_with_json({"order": {}})
    order = store_order(store_channel)

    cancel_all(order, reason, django_capture_on_commit_callbacks)

    sync = StorefrontSync.objects.get(order=order)
    assert sync.status == "pending"
    assert sync.last_error == "HTTP 429: rate limited"
    wait = (sync.next_attempt_at - timezone.now()).total_seconds()
    assert 110 < wait <= 120
    make_due(sync)
    STOREFRONT_OUTBOX.sweep()
    sync.refresh_from_db()
    assert (sync.status, sync.attempts) == ("succeeded", 2)


def test_401_fails_for_good_with_the_stores_message(
    httpserver, store_channel, reason, django_capture_on_commit_callbacks
):
    httpserver.expect_request(CANCEL_PATH).respond_with_json({"errors": ["access token is invalid"]}, status=401)
    order = store_order(store_channel)

    cancel_all(order, reason, django_capture_on_commit_callbacks)

    sync = StorefrontSync.objects.get(order=order)
    assert (sync.status, sync.attempts, sync.response_status) == ("failed", 1, 401)
    assert sync.last_error == "HTTP 401: access token is invalid"
    STOREFRONT_OUTBOX.sweep()
    assert len(store_calls(httpserver)) == 1


def test_a_timeout_is_retried(httpserver, store_channel, reason, settings, django_capture_on_commit_callbacks):
    settings.STOREFRONT_TIMEOUT = 0.2

    def slow(request):
        time.sleep(0.5)
        return Response("{}", status=200)

    httpserver.expect_request(CANCEL_PATH).respond_with_handler(slow)
    order = store_order(store_channel)

    cancel_all(order, reason, django_capture_on_commit_callbacks)

    sync = StorefrontSync.objects.get(order=order)
    assert sync.status == "pending"
    assert sync.last_error.startswith("No answer in time")


def test_retries_stop_after_the_last_attempt(
    httpserver, store_channel, reason, settings, django_capture_on_commit_callbacks
):
    settings.STOREFRONT_MAX_ATTEMPTS = 2
    httpserver.expect_request(CANCEL_PATH).respond_with_data("down", status=500)
    order = store_order(store_channel)

    cancel_all(order, reason, django_capture_on_commit_callbacks)
    sync = StorefrontSync.objects.get(order=order)
    make_due(sync)
    STOREFRONT_OUTBOX.sweep()

    sync.refresh_from_db()
    assert (sync.status, sync.attempts) == ("failed", 2)


def test_broker_down_at_commit_is_sent_once_after_it_is_back(
    httpserver, store_channel, reason, django_capture_on_commit_callbacks
):
    httpserver.expect_request(CANCEL_PATH).respond_with_json({"order": {}})
    order = store_order(store_channel)

    with mock.patch.object(outbox_send_task, "apply_async", side_effect=ConnectionError("broker down")):
        cancel_all(order, reason, django_capture_on_commit_callbacks)

    sync = StorefrontSync.objects.get(order=order)
    assert (sync.status, sync.attempts) == ("pending", 0)
    assert store_calls(httpserver) == []
    # the broker is back: the sweeper (beat) sends what was left behind, once
    assert STOREFRONT_OUTBOX.sweep() == [sync.pk]
    assert STOREFRONT_OUTBOX.sweep() == []
    sync.refresh_from_db()
    assert (sync.status, sync.attempts) == ("succeeded", 1)
    assert len(store_calls(httpserver)) == 1


def test_a_lost_lease_records_nothing(httpserver, store_channel, reason, django_capture_on_commit_callbacks):
    httpserver.expect_request(CANCEL_PATH).respond_with_json({"order": {}})
    order = store_order(store_channel)
    with mock.patch.object(outbox_send_task, "apply_async"):
        cancel_all(order, reason, django_capture_on_commit_callbacks)
    sync = StorefrontSync.objects.get(order=order)
    leased = STOREFRONT_OUTBOX.lease(sync.pk)
    # the lease runs out and another worker takes the row over
    StorefrontSync.objects.filter(pk=sync.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    STOREFRONT_OUTBOX.execute(sync.pk)

    from common.outbox import Attempt

    assert STOREFRONT_OUTBOX.record(leased, Attempt(succeeded=False, error="late")) is None
    sync.refresh_from_db()
    assert (sync.status, sync.attempts, sync.last_error) == ("succeeded", 2, "")
