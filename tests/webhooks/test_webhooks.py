"""Webhooks: subscriptions, the events of every change, signed deliveries to a loopback receiver."""

import json
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from cancellations.services import cancellation_request_reject, order_cancel
from channels.models import Channel
from tests.factories import CancellationReasonFactory, CancellationRequestFactory, ChannelFactory, order_with_items
from webhooks.models import Webhook, WebhookAttempt, WebhookDelivery, WebhookEventType
from webhooks.services import WEBHOOK_OUTBOX, webhook_create, webhook_update

pytestmark = pytest.mark.django_db

SECRET = "whsec-0123456789abcdef"


def documented_receiver():
    """The receiver docs/api.md shows, run as written."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    code = re.search(r"```python\n(import hashlib.*?def verify_omnitron_webhook.*?)```", text, re.S).group(1)
    namespace = {}
    exec(code, namespace)
    return namespace["verify_omnitron_webhook"]


def verify(secret: str, body: bytes, header: str) -> bool:
    try:
        documented_receiver()(secret, body, header)
    except ValueError:
        return False
    return True


@pytest.fixture
def receiver(httpserver):
    httpserver.url = httpserver.url_for("/hooks")
    return httpserver


def subscribe(channel, url, events=None, **kwargs):
    return webhook_create(channel=channel, url=url, events=events or WebhookEventType.values, secret=SECRET, **kwargs)


def received(httpserver) -> list:
    return [request for request, _ in httpserver.log]


def received_types(httpserver) -> list[str]:
    return [json.loads(request.data)["type"] for request in received(httpserver)]


def cancel_all(order, capture, **kwargs):
    reason = CancellationReasonFactory(cancellation_type="cancel")
    with capture(execute=True):
        return order_cancel(
            order_id=order.pk, is_all=True, reasons={i.pk: reason.pk for i in order.items.all()}, **kwargs
        )


def test_a_delivery_is_signed_with_the_secret_and_carries_the_resource(receiver, django_capture_on_commit_callbacks):
    receiver.expect_request("/hooks", method="POST").respond_with_data("ok")
    channel = ChannelFactory()
    subscribe(channel, receiver.url, events=["order.cancelled"])
    order = order_with_items(channel=channel, lines=[(Decimal("10.00"), 2)])

    cancel_all(order, django_capture_on_commit_callbacks)

    (request,) = received(receiver)
    body = json.loads(request.data)
    assert body["type"] == "order.cancelled"
    assert body["data"]["id"] == order.pk
    assert body["data"]["status"] == "100"
    assert body["data"]["amount"] == "20.00"
    assert request.headers["X-Omnitron-Event-Id"] == body["id"]
    assert request.headers["Content-Type"] == "application/json"
    assert verify(SECRET, request.data, request.headers["X-Omnitron-Signature"])
    assert not verify("another-secret-0000", request.data, request.headers["X-Omnitron-Signature"])
    assert not verify(SECRET, request.data.replace(b"20.00", b"99.00"), request.headers["X-Omnitron-Signature"])


def test_500_twice_then_200_is_three_attempts_of_one_event(receiver, django_capture_on_commit_callbacks):
    receiver.expect_ordered_request("/hooks").respond_with_data("boom", status=500)
    receiver.expect_ordered_request("/hooks").respond_with_data("boom again", status=500)
    receiver.expect_ordered_request("/hooks").respond_with_data("ok", status=200)
    channel = ChannelFactory()
    subscribe(channel, receiver.url, events=["order.cancelled"])
    order = order_with_items(channel=channel)

    cancel_all(order, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    for _ in range(2):
        delivery.refresh_from_db()
        assert delivery.status == "pending"
        assert delivery.next_attempt_at > timezone.now()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        WEBHOOK_OUTBOX.sweep()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 3, 200)
    requests = received(receiver)
    assert len(requests) == 3
    assert len({r.headers["X-Omnitron-Event-Id"] for r in requests}) == 1
    assert len({r.data for r in requests}) == 1
    log = list(
        WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code", "response_excerpt")
    )
    assert log == [(1, 500, "boom"), (2, 500, "boom again"), (3, 200, "ok")]


def test_a_delivery_is_retried_for_the_window_then_fails(receiver, django_capture_on_commit_callbacks):
    receiver.expect_request("/hooks").respond_with_data("gone", status=410)
    channel = ChannelFactory()
    subscribe(channel, receiver.url, events=["order.cancelled"])
    cancel_all(order_with_items(channel=channel), django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"  # a 4xx is retried too: the receiver may be mid-deploy
    assert abs(delivery.retry_until - delivery.created_date - timedelta(hours=24)) < timedelta(seconds=5)

    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1), retry_until=timezone.now()
    )
    WEBHOOK_OUTBOX.sweep()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert delivery.last_error == "HTTP 410: gone"


def test_an_inactive_subscription_gets_nothing(receiver, django_capture_on_commit_callbacks):
    channel = ChannelFactory()
    subscribe(channel, receiver.url, is_active=False)

    cancel_all(order_with_items(channel=channel), django_capture_on_commit_callbacks)

    assert received(receiver) == []
    assert not WebhookDelivery.objects.exists()
    assert Channel.objects.get(pk=channel.pk).webhook_events == []


def test_other_channels_events_never_reach_a_channels_subscription(receiver, django_capture_on_commit_callbacks):
    receiver.expect_request("/hooks").respond_with_data("ok")
    receiver.expect_request("/other").respond_with_data("ok")
    mine, other = ChannelFactory(), ChannelFactory()
    subscribe(mine, receiver.url)
    subscribe(other, receiver.url_for("/other"))

    cancel_all(order_with_items(channel=other), django_capture_on_commit_callbacks)
    order = order_with_items(channel=mine)
    cancel_all(order, django_capture_on_commit_callbacks)

    bodies = [json.loads(request.data) for request, _ in receiver.log if request.path == "/hooks"]
    assert {body["data"]["order"] for body in bodies if body["type"].startswith("cancellation_plan.")} == {order.pk}
    assert {body["data"]["id"] for body in bodies if body["type"] == "order.cancelled"} == {order.pk}
    assert set(WebhookDelivery.objects.filter(webhook__url=receiver.url).values_list("channel_id", flat=True)) == {
        mine.pk
    }
    assert len([request for request, _ in receiver.log if request.path == "/other"]) == len(bodies)


def test_a_deactivated_subscription_stops_receiving(receiver, django_capture_on_commit_callbacks):
    channel = ChannelFactory()
    webhook = subscribe(channel, receiver.url, events=["order.cancelled"])
    webhook_update(webhook=webhook, is_active=False)

    cancel_all(order_with_items(channel=channel), django_capture_on_commit_callbacks)

    assert received(receiver) == []


def test_every_event_reaches_a_subscribed_receiver(
    receiver, staff_client, settings, django_capture_on_commit_callbacks
):
    receiver.expect_request("/hooks").respond_with_data("ok")
    channel = ChannelFactory()
    subscribe(channel, receiver.url)
    reason = CancellationReasonFactory(cancellation_type="cancel")
    order = order_with_items(channel=channel, lines=[(Decimal("10.00"), 1)] * 3, payment_reference="TX")
    first, second, third = order.items.order_by("id")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"/api/channel/{channel.pk}/cancellation_requests/",
            {"order_item": first.pk, "reason": reason.pk, "cancellation_type": "cancel"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    with django_capture_on_commit_callbacks(execute=True):
        cancellation_request_reject(request_id=response.json()["id"])
    request = CancellationRequestFactory(order_item=first, reason=reason)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            staff_client.post(f"/api/channel/{channel.pk}/cancellation_requests/{request.pk}/approve/").status_code
            == 200
        )
    settings.SANDBOX_GATEWAY_MODE = "fail"
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(
            order_id=order.pk, item_ids=[second.pk, third.pk], reasons={second.pk: reason.pk, third.pk: reason.pk}
        )

    types = received_types(receiver)
    assert set(types) == set(WebhookEventType.values)
    assert types[:2] == ["cancellation_request.created", "cancellation_request.rejected"]
    for request in received(receiver):
        assert verify(SECRET, request.data, request.headers["X-Omnitron-Signature"])
    assert WebhookDelivery.objects.filter(status="succeeded").count() == len(types)
    refund_event = next(json.loads(r.data) for r in received(receiver) if json.loads(r.data)["type"] == "refund.failed")
    assert refund_event["data"]["status"] == "failed"
    assert refund_event["data"]["last_error"].startswith("sandbox_declined")


def test_a_rolled_back_change_sends_nothing(receiver, django_capture_on_commit_callbacks):
    from cancellations.services import cancellation_quote_create

    channel = ChannelFactory()
    subscribe(channel, receiver.url)
    order = order_with_items(channel=channel)
    reason = CancellationReasonFactory(cancellation_type="cancel")
    item = order.items.get()

    with django_capture_on_commit_callbacks(execute=True):
        cancellation_quote_create(
            order_id=order.pk, body_fingerprint="x", item_ids=[item.pk], reasons={item.pk: reason.pk}
        )

    assert not WebhookDelivery.objects.exists()
    assert received(receiver) == []


def test_a_private_receiver_is_refused_unless_allowed(settings, receiver, django_capture_on_commit_callbacks):
    channel = ChannelFactory()
    webhook = subscribe(channel, receiver.url, events=["order.cancelled"])
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False

    cancel_all(order_with_items(channel=channel), django_capture_on_commit_callbacks)

    delivery = WebhookDelivery.objects.get(webhook=webhook)
    assert delivery.status == "failed"
    assert delivery.last_error == "Not sent: localhost is a private host."
    assert received(receiver) == []
    assert Webhook.objects.count() == 1
