"""Cancel syncs to the storefront (reference: the store's "Cancel Order" API).

`storefront_sync_record` runs in the cancellation's transaction and writes the sync row (the outbox); a worker then
calls `POST {base_url}/openapi/{api_version}/orders/{remote_id}/cancel` with the `access-token` header and
`{"reason": ...}`. 5xx, 408, 429 (after its `Retry-After`) and timeouts are retried with backoff up to
STOREFRONT_MAX_ATTEMPTS; any other 4xx fails for good with the store's `errors` / `error` text. Every attempt is an
order event.
"""

import json
from urllib.parse import quote

import httpx
from django.conf import settings

from common.errors import ApplicationError
from common.outbox import Attempt, Outbox, OutboxStatus, RetryPolicy, http_post
from orders.models import Order, OrderEvent, OrderEventType
from orders.services import order_events_write
from storefront.conf import DEFAULT_API_VERSION, storefront_conf
from storefront.models import StorefrontSync

SKIP_RETURN = "A return: the store's API cancels whole orders only."
SKIP_PARTIAL = "A partial cancel: the store's API cancels whole orders only."
SKIP_NO_REMOTE_ID = "The order has no remote_id: the store's id of the order is unknown."


def storefront_sync_record(
    *, order: Order, plan_id: int, whole_order_cancelled: bool, is_return: bool, reason: str
) -> StorefrontSync | None:
    """In the transaction of a cancellation of `order` (channel loaded): write its sync row, queued for after the
    commit, or `skipped` with the reason when the store cannot be told. None (and no query) when the order's channel
    has no storefront."""
    if storefront_conf(order.channel) is None:
        return None
    if is_return:
        skipped = SKIP_RETURN
    elif not whole_order_cancelled:
        skipped = SKIP_PARTIAL
    elif not order.remote_id:
        skipped = SKIP_NO_REMOTE_ID
    else:
        skipped = ""
    sync = StorefrontSync.objects.create(
        order=order,
        channel_id=order.channel_id,
        plan_id=plan_id,
        remote_id=order.remote_id or "",
        reason=reason[:255],
        status=OutboxStatus.SKIPPED if skipped else OutboxStatus.PENDING,
        last_error=skipped,
    )
    if not skipped:
        STOREFRONT_OUTBOX.enqueue([sync.pk])
    return sync


def cancel_url(conf: dict, remote_id: str) -> str:
    version = conf.get("api_version") or DEFAULT_API_VERSION
    return f"{conf['base_url'].rstrip('/')}/openapi/{version}/orders/{quote(remote_id, safe='')}/cancel"


def store_error(response: httpx.Response) -> str:
    """The store's own words: `{"errors": [...]}` or `{"error": "..."}`."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("errors"), list) and body["errors"]:
        return "; ".join(str(error) for error in body["errors"])[:1000]
    if body.get("error"):
        return str(body["error"])[:1000]
    return ""


def _call_store(sync: StorefrontSync) -> Attempt:
    conf = storefront_conf(sync.channel)
    if conf is None or not conf.get("access_token"):
        return Attempt(succeeded=False, error="The channel no longer has a storefront configured.")
    return http_post(
        cancel_url(conf, sync.remote_id),
        content=json.dumps({"reason": sync.reason}).encode(),
        headers={"Content-Type": "application/json", "access-token": conf["access_token"]},
        timeout=settings.STOREFRONT_TIMEOUT,
        error_of=store_error,
    )


def _recorded(sync: StorefrontSync, attempt: Attempt) -> None:
    order_events_write(
        [
            OrderEvent(
                order_id=sync.order_id,
                type=OrderEventType.STOREFRONT_SYNC_ATTEMPTED,
                payload={
                    "storefront_sync": sync.pk,
                    "attempt": sync.attempts,
                    "status": sync.status,
                    "status_code": attempt.details.get("status_code"),
                    "duration_ms": attempt.details.get("duration_ms"),
                    "error": attempt.error,
                },
            )
        ]
    )


def _policy() -> RetryPolicy:
    return RetryPolicy(
        base_delay=settings.STOREFRONT_RETRY_BASE_DELAY,
        max_delay=settings.STOREFRONT_RETRY_MAX_DELAY,
        max_attempts=settings.STOREFRONT_MAX_ATTEMPTS,
    )


STOREFRONT_OUTBOX = Outbox(
    name="storefront_sync",
    model=StorefrontSync,
    call=_call_store,
    policy=_policy,
    recorded=_recorded,
    select_related=("channel",),
)


def storefront_sync_execute(*, sync_id: int) -> StorefrontSync | None:
    """One attempt (what the worker runs)."""
    return STOREFRONT_OUTBOX.execute(sync_id)


def storefront_sync_retry(*, sync_id: int) -> StorefrontSync:
    """Send a failed sync again now (its attempts are kept), or one waiting for its next attempt sooner."""
    if not STOREFRONT_OUTBOX.requeue(row_id=sync_id, from_statuses=(OutboxStatus.FAILED, OutboxStatus.PENDING)):
        status = StorefrontSync.objects.values_list("status", flat=True).get(pk=sync_id)
        raise ApplicationError(
            f"Only a failed or pending sync can be retried; this one is {status}.", code="sync_not_retryable"
        )
    return StorefrontSync.objects.get(pk=sync_id)
