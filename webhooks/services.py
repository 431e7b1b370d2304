"""Webhook subscriptions, the events written for them, and their signed delivery.

Events are written by `webhook_events_emit` in the transaction of the change they report: one delivery row per
(event, subscribed webhook), all of a call's rows in one INSERT, each with the exact body it will POST. A worker
delivers them (see `common.outbox`) at least once, retrying timeouts, connection errors and any non-2xx answer with
exponential backoff for WEBHOOK_RETRY_HOURS. Every attempt is logged (`WebhookAttempt`).

Signature: `X-Omnitron-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed by the secret>`,
computed at each attempt (a receiver may refuse an old `t`); `X-Omnitron-Event-Id` is the same on every attempt.
"""

import hashlib
import hmac
import ipaddress
import json
import socket
import time
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from channels.models import Channel
from common.errors import ApplicationError
from common.outbox import Attempt, Outbox, OutboxStatus, RetryPolicy, http_post
from webhooks.models import Webhook, WebhookAttempt, WebhookDelivery

EVENT_ID_HEADER = "X-Omnitron-Event-Id"
SIGNATURE_HEADER = "X-Omnitron-Signature"


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# Subscriptions -----------------------------------------------------------------------------------------------------


def _is_private_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast


def private_host_refusal(url: str, *, resolve: bool) -> str:
    """Why the URL's host may not be called (empty when it may): unless WEBHOOK_ALLOW_PRIVATE_HOSTS, a receiver on a
    loopback, private, link-local or otherwise non-public address is refused (server-side request forgery).
    `resolve`: also look the host name up (at delivery time)."""
    if settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        return ""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is a private host."
    try:
        return f"{host} is a private address." if _is_private_address(host) else ""
    except ValueError:
        pass  # a name, not an address
    if not resolve:
        return ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError as exc:
        return f"{host} does not resolve: {exc}"
    private = sorted(address for address in addresses if _is_private_address(address.split("%")[0]))
    return f"{host} resolves to a private address ({', '.join(private)})." if private else ""


def webhook_url_check(url: str) -> None:
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        parts, hostname = None, None
    if parts is None or parts.scheme not in ("http", "https") or not hostname:
        raise ApplicationError("The URL must be http or https.", code="webhook_url_invalid", field="url")
    refusal = private_host_refusal(url, resolve=False)
    if refusal:
        raise ApplicationError(
            f"Webhooks may not call private hosts: {refusal}", code="webhook_url_private", field="url"
        )


def _channel_events_refresh(channel_id: int) -> None:
    """Recompute the channel's `webhook_events` from its active webhooks, under the channel's row lock (so two
    subscription changes cannot both write a stale union)."""
    channel = Channel.objects.select_for_update().get(pk=channel_id)
    events = set()
    for hook_events in Webhook.objects.filter(channel_id=channel_id, is_active=True).values_list("events", flat=True):
        events.update(hook_events)
    channel.webhook_events = sorted(events)
    # Not the channel's modified_date: the channel as the API shows it did not change.
    channel.save(update_fields=["webhook_events"])


def webhook_create(*, channel: Channel, url: str, events: list[str], secret: str, is_active: bool = True) -> Webhook:
    webhook_url_check(url)
    with transaction.atomic():
        webhook = Webhook.objects.create(
            channel=channel, url=url, events=sorted(set(events)), secret=secret, is_active=is_active
        )
        _channel_events_refresh(channel.pk)
    return webhook


def webhook_update(*, webhook: Webhook, **changes) -> Webhook:
    """Change the given fields; the channels concerned (old and new) have their `webhook_events` recomputed."""
    if "url" in changes:
        webhook_url_check(changes["url"])
    if "events" in changes:
        changes["events"] = sorted(set(changes["events"]))
    with transaction.atomic():
        old_channel_id = webhook.channel_id
        for name, value in changes.items():
            setattr(webhook, name, value)
        webhook.save(update_fields=[*changes, "modified_date"])
        for channel_id in sorted({old_channel_id, webhook.channel_id}):
            _channel_events_refresh(channel_id)
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    with transaction.atomic():
        channel_id = webhook.channel_id
        webhook.delete()
        _channel_events_refresh(channel_id)


# Events ------------------------------------------------------------------------------------------------------------


def webhook_wanted(channel: Channel, event_type: str) -> bool:
    """Does an active webhook of the channel listen to this event? From the channel row the caller holds: no query,
    so a caller builds an event's data only when someone will receive it."""
    return event_type in (channel.webhook_events or ())


def webhook_events_emit(*, channel: Channel, events: list[tuple[str, dict]]) -> list[WebhookDelivery]:
    """In the caller's transaction: one delivery per event and subscribed active webhook of the channel, written in
    one INSERT and queued for after the commit. `events`: (type, data as the API shows the resource). No query when
    nobody listens to any of them."""
    events = [(event_type, data) for event_type, data in events if webhook_wanted(channel, event_type)]
    if not events:
        return []
    webhooks = list(Webhook.objects.filter(channel_id=channel.pk, is_active=True).order_by("id"))
    now = timezone.now()
    retry_until = now + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    deliveries = []
    for event_type, data in events:
        event_id = uuid.uuid4()
        body = json.dumps(
            {"id": str(event_id), "type": event_type, "created": now.isoformat().replace("+00:00", "Z"), "data": data},
            cls=DjangoJSONEncoder,
            separators=(",", ":"),
        )
        deliveries += [
            WebhookDelivery(
                webhook=webhook,
                channel_id=channel.pk,
                event_id=event_id,
                event_type=event_type,
                body=body,
                retry_until=retry_until,
            )
            for webhook in webhooks
            if event_type in webhook.events
        ]
    WebhookDelivery.objects.bulk_create(deliveries)
    WEBHOOK_OUTBOX.enqueue([delivery.pk for delivery in deliveries])
    return deliveries


# Delivery ----------------------------------------------------------------------------------------------------------


def _deliver(delivery: WebhookDelivery) -> Attempt:
    webhook = delivery.webhook
    if not webhook.is_active:
        return Attempt(succeeded=False, error="The webhook was deactivated.")
    refusal = private_host_refusal(webhook.url, resolve=True)
    if refusal:
        return Attempt(succeeded=False, error=f"Not sent: {refusal}")
    body = delivery.body.encode()
    return http_post(
        webhook.url,
        content=body,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Omnitron-Webhooks/1",
            EVENT_ID_HEADER: str(delivery.event_id),
            SIGNATURE_HEADER: webhook_signature(secret=webhook.secret, timestamp=int(time.time()), body=body),
        },
        timeout=settings.WEBHOOK_TIMEOUT,
        retry_client_errors=True,
    )


def _recorded(delivery: WebhookDelivery, attempt: Attempt) -> None:
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        status_code=attempt.details.get("status_code"),
        duration_ms=attempt.details.get("duration_ms"),
        response_excerpt=attempt.details.get("response_excerpt", ""),
        error=attempt.error,
    )


def _policy() -> RetryPolicy:
    return RetryPolicy(base_delay=settings.WEBHOOK_RETRY_BASE_DELAY, max_delay=settings.WEBHOOK_RETRY_MAX_DELAY)


WEBHOOK_OUTBOX = Outbox(
    name="webhook_delivery",
    model=WebhookDelivery,
    call=_deliver,
    policy=_policy,
    recorded=_recorded,
    select_related=("webhook",),
)


def webhook_delivery_execute(*, delivery_id: int) -> WebhookDelivery | None:
    """One attempt (what the worker runs)."""
    return WEBHOOK_OUTBOX.execute(delivery_id)


def webhook_redeliver(*, delivery_id: int) -> WebhookDelivery:
    """Send the delivery again now, with the same event id and body, and another WEBHOOK_RETRY_HOURS of retries;
    refused while a worker is sending it."""
    requeued = WEBHOOK_OUTBOX.requeue(
        row_id=delivery_id,
        from_statuses=(OutboxStatus.FAILED, OutboxStatus.SUCCEEDED, OutboxStatus.PENDING),
        retry_until=timezone.now() + timedelta(hours=settings.WEBHOOK_RETRY_HOURS),
    )
    if not requeued:
        raise ApplicationError("A worker is sending this delivery right now; try again later.", code="delivery_busy")
    return WebhookDelivery.objects.get(pk=delivery_id)
