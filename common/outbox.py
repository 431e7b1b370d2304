"""Outboxes: rows that must reach another system, sent by Celery at least once.

The pattern of the refund engine, shared by every kind of outgoing call (storefront syncs, webhook deliveries):

- the row is the truth. It is written in the transaction of the change it reports, and the Celery message that
  follows the commit (`Outbox.enqueue`) is only a nudge: if the broker is down, the sweeper sends it later;
- one attempt leases the row (`status` processing, `leased_until`, a new `lease_token`), calls out with no lock
  held, and records the outcome with a conditional UPDATE fenced by that token, so a worker whose lease ran out and
  was taken over records nothing (`Outbox.execute`). A task delivered twice leases nothing the second time;
- a retryable failure puts the row back to pending with `next_attempt_at` (exponential backoff with jitter, or the
  other side's `Retry-After`), until the policy's attempts or time window run out; then it fails for good;
- the sweeper (`outbox.sweep` on beat) re-sends every row that is due or whose lease expired.

An app declares one `Outbox` per row model and registers it (`register_outbox`) at start-up; the two Celery tasks
(`outbox.send`, `outbox.sweep`, in `common.tasks`) find it by name.
"""

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from celery import current_app as app
from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from common.after_response import after_response
from common.request_id import request_id_headers

logger = logging.getLogger(__name__)


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # written, waiting for a worker or for its next attempt
    PROCESSING = "processing", "Processing"  # a worker holds the lease and is calling out
    SUCCEEDED = "succeeded", "Succeeded"  # final: the other side took it
    FAILED = "failed", "Failed"  # final until retried by hand: refused for good, or the retries ran out
    SKIPPED = "skipped", "Skipped"  # final: nothing to send (`last_error` says why)


FINAL_STATUSES = (OutboxStatus.SUCCEEDED, OutboxStatus.FAILED, OutboxStatus.SKIPPED)


class OutboxRow(models.Model):
    """The fields of an outbox row. A concrete model adds what it sends, a `status` CheckConstraint and the two
    indexes the sweeper uses: (status, next_attempt_at) and (status, leased_until)."""

    status = models.CharField(max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # While processing: the worker's lease, and who holds it (a new token per lease).
    leased_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    # While pending after a retryable failure: not before this moment.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Retries stop after this moment (null: only the policy's number of attempts limits them).
    retry_until = models.DateTimeField(null=True, blank=True)
    # The other side's answer to the last attempt (null: no answer, e.g. a timeout).
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    created_date = models.DateTimeField(auto_now_add=True, db_index=True)
    modified_date = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


@dataclass(frozen=True, kw_only=True)
class Attempt:
    """What one call to the other side came to. `details` (status code, duration, an excerpt of the answer) goes to
    the attempt's log."""

    succeeded: bool
    error: str = ""
    retryable: bool = False
    retry_after: float | None = None  # seconds the other side asked us to wait (429 Retry-After)
    details: dict = field(default_factory=dict)


# "Not now" rather than "no": worth another attempt, like a 5xx.
RETRYABLE_CLIENT_STATUSES = frozenset({408, 429})
RESPONSE_EXCERPT_CHARS = 500


def retry_after_seconds(value: str | None) -> float | None:
    """A `Retry-After` header: seconds, or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max((moment - timezone.now()).total_seconds(), 0.0)


def http_post(
    url: str,
    *,
    content: bytes,
    headers: dict[str, str],
    timeout: float,
    retry_client_errors: bool = False,
    error_of: Callable[[httpx.Response], str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Attempt:
    """One POST of an outbox row, as an `Attempt`: 2xx succeeds; timeouts, connection errors, 5xx, 408 and 429
    (with its `Retry-After`) are retried, and with `retry_client_errors` every other non-2xx too; any other answer
    fails for good with `error_of(response)` (default: the start of the body). Never raises. `details`: the status
    code, the duration and the start of the answer, for the attempt's log."""
    started = time.monotonic()
    details: dict = {"status_code": None}

    def finish(**kwargs) -> Attempt:
        details["duration_ms"] = round((time.monotonic() - started) * 1000)
        return Attempt(details=details, **kwargs)

    try:
        with httpx.Client(
            timeout=httpx.Timeout(connect=min(timeout, 5.0), read=timeout, write=timeout, pool=timeout),
            transport=transport,
            follow_redirects=False,
        ) as client:
            response = client.post(url, content=content, headers={**headers, **request_id_headers()})
    except (httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        # The same request would fail the same way every time: a bad URL or header, not a network problem.
        return finish(succeeded=False, error=f"The request could not be sent: {exc}")
    except httpx.TimeoutException as exc:
        return finish(succeeded=False, error=f"No answer in time: {exc!r}", retryable=True)
    except httpx.TransportError as exc:
        return finish(succeeded=False, error=f"Could not connect: {exc!r}", retryable=True)
    details["status_code"] = response.status_code
    details["response_excerpt"] = response.text[:RESPONSE_EXCERPT_CHARS]
    if response.is_success:
        return finish(succeeded=True)
    error = (error_of(response) if error_of else "") or response.text[:200].strip() or response.reason_phrase
    error = f"HTTP {response.status_code}: {error}"
    retryable = response.is_server_error or response.status_code in RETRYABLE_CLIENT_STATUSES or retry_client_errors
    retry_after = retry_after_seconds(response.headers.get("Retry-After")) if retryable else None
    return finish(succeeded=False, error=error, retryable=retryable, retry_after=retry_after)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    base_delay: float  # seconds before the second attempt; doubled for each further one
    max_delay: float
    max_attempts: int | None = None  # None: limited by the row's `retry_until` alone

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Exponential backoff with up to 50% jitter; a `Retry-After` the other side sent is honoured (capped)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        delay = min(self.base_delay * 2 ** max(attempts - 1, 0), self.max_delay)
        return delay + random.uniform(0, delay / 2)

    def may_retry(self, row: OutboxRow, next_attempt_at: datetime) -> bool:
        if self.max_attempts is not None and row.attempts >= self.max_attempts:
            return False
        return row.retry_until is None or next_attempt_at <= row.retry_until


@dataclass(kw_only=True)
class Outbox:
    """One kind of outbox row and how to send it.

    `call(row) -> Attempt` makes the outgoing call (no lock held; it must not raise, but if it does the attempt
    counts as a retryable failure). `recorded(row, attempt)` runs in the outcome's transaction, after the fenced
    UPDATE went through (the row carries its new status): write the attempt's audit trail there. `policy()` and
    `lease_seconds()` are read at each use, so settings can change them.
    """

    name: str
    model: type[OutboxRow]
    call: Callable[[OutboxRow], Attempt]
    policy: Callable[[], RetryPolicy]
    lease_seconds: Callable[[], int] = lambda: settings.OUTBOX_LEASE_SECONDS
    recorded: Callable[[OutboxRow, Attempt], None] | None = None
    select_related: tuple[str, ...] = ()

    # Sending ---------------------------------------------------------------------------------------------------

    def nudge(self, row_id: int, countdown: float | None = None) -> None:
        """Ask a worker to attempt the row. Never fails the caller: if the broker is unreachable, the sweeper sends
        it later."""
        from common.tasks import outbox_send_task  # the tasks module imports this one

        try:
            outbox_send_task.apply_async((self.name, row_id), countdown=countdown)
        except Exception:
            logger.warning(
                "%s %s: could not reach the broker; the sweeper will send it", self.name, row_id, exc_info=True
            )

    def enqueue(self, row_ids: list[int]) -> None:
        """Nudge the rows once the surrounding transaction commits (nothing is sent if it rolls back); in a request,
        once its response has gone out (`common.after_response`)."""
        for row_id in row_ids:
            transaction.on_commit(lambda row_id=row_id: after_response(lambda: self.nudge(row_id)))

    # One attempt -----------------------------------------------------------------------------------------------

    def lease(self, row_id: int) -> OutboxRow | None:
        """Take the row for one attempt, or None: final, leased by another worker, or not due yet."""
        now = timezone.now()
        with transaction.atomic():
            row = (
                self.model.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related(*self.select_related)
                .filter(pk=row_id)
                .first()
            )
            if row is None or row.status in FINAL_STATUSES:
                return None
            if row.status == OutboxStatus.PROCESSING and row.leased_until and row.leased_until > now:
                return None
            if row.status == OutboxStatus.PENDING and row.next_attempt_at and row.next_attempt_at > now:
                return None
            row.status = OutboxStatus.PROCESSING
            row.attempts += 1
            row.leased_until = now + timedelta(seconds=self.lease_seconds())
            row.lease_token = uuid.uuid4()
            row.next_attempt_at = None
            row.save(
                update_fields=["status", "attempts", "leased_until", "lease_token", "next_attempt_at", "modified_date"]
            )
        return row

    def _changes(self, row: OutboxRow, attempt: Attempt, now: datetime) -> dict:
        if attempt.succeeded:
            return {"status": OutboxStatus.SUCCEEDED, "last_error": "", "leased_until": None}
        policy = self.policy()
        if attempt.retryable:
            next_attempt_at = now + timedelta(seconds=policy.delay(row.attempts, attempt.retry_after))
            if policy.may_retry(row, next_attempt_at):
                return {
                    "status": OutboxStatus.PENDING,
                    "last_error": attempt.error,
                    "leased_until": None,
                    "next_attempt_at": next_attempt_at,
                }
        return {"status": OutboxStatus.FAILED, "last_error": attempt.error, "leased_until": None}

    def record(self, row: OutboxRow, attempt: Attempt) -> OutboxRow | None:
        """Make the attempt's outcome durable, if the lease is still `row`'s; None when it was taken over."""
        now = timezone.now()
        changes = {**self._changes(row, attempt, now), "response_status": attempt.details.get("status_code")}
        with transaction.atomic():
            written = self.model.objects.filter(
                pk=row.pk, status=OutboxStatus.PROCESSING, lease_token=row.lease_token
            ).update(**changes, modified_date=now)
            if not written:
                logger.warning("%s %s: outcome not recorded, the lease is another's", self.name, row.pk)
                return None
            for name, value in {**changes, "modified_date": now}.items():
                setattr(row, name, value)
            if self.recorded is not None:
                self.recorded(row, attempt)
            if row.status == OutboxStatus.PENDING and not app.conf.task_always_eager:
                # In-process tasks would retry at once, inside the caller: leave those to the sweeper.
                delay = (row.next_attempt_at - now).total_seconds()
                transaction.on_commit(lambda: self.nudge(row.pk, countdown=delay))
        return row

    def execute(self, row_id: int) -> OutboxRow | None:
        """One attempt: lease the row, call out with no lock held, record the outcome. None when there was nothing
        to do (final, leased by another, not due) or the lease was lost meanwhile."""
        row = self.lease(row_id)
        if row is None:
            return None
        try:
            attempt = self.call(row)
        except Exception as exc:  # an unexpected error must not leave the row leased until the sweeper
            logger.exception("%s %s: the call raised", self.name, row.pk)
            attempt = Attempt(succeeded=False, error=f"{type(exc).__name__}: {exc}", retryable=True)
        logger.info(
            "%s %s attempt %s outcome=%s error=%s",
            self.name,
            row.pk,
            row.attempts,
            "succeeded" if attempt.succeeded else ("retry" if attempt.retryable else "failed"),
            attempt.error or "-",
        )
        return self.record(row, attempt)

    # Sweeping and retrying by hand -----------------------------------------------------------------------------

    def due(self, *, now: datetime | None = None, limit: int = 1000) -> list[int]:
        """Rows a worker should pick up: pending and due, or processing with an expired lease."""
        now = now or timezone.now()
        pending = Q(status=OutboxStatus.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        stale = Q(status=OutboxStatus.PROCESSING, leased_until__lt=now)
        return list(self.model.objects.filter(pending | stale).order_by("id").values_list("pk", flat=True)[:limit])

    def sweep(self, *, now: datetime | None = None) -> list[int]:
        """Re-send every due row: a lost message or a broker outage delays a row, never loses it."""
        row_ids = self.due(now=now)
        for row_id in row_ids:
            self.nudge(row_id)
        if row_ids:
            logger.info("sweeper re-sent %s %s row(s): %s", len(row_ids), self.name, row_ids[:20])
        return row_ids

    def requeue(self, *, row_id: int, from_statuses: tuple[str, ...], retry_until: datetime | None = None) -> bool:
        """Put a row back in the queue by hand (its attempts are kept), if its status is one of `from_statuses`;
        False when it was not (e.g. a worker holds it now)."""
        changes = {"status": OutboxStatus.PENDING, "leased_until": None, "next_attempt_at": None, "last_error": ""}
        if retry_until is not None:
            changes["retry_until"] = retry_until
        with transaction.atomic():
            updated = self.model.objects.filter(pk=row_id, status__in=from_statuses).update(
                **changes, modified_date=timezone.now()
            )
            if updated:
                self.enqueue([row_id])
        return bool(updated)


_outboxes: dict[str, Outbox] = {}


def register_outbox(outbox: Outbox) -> Outbox:
    _outboxes[outbox.name] = outbox
    return outbox


def outbox_named(name: str) -> Outbox:
    return _outboxes[name]


def outboxes() -> list[Outbox]:
    return list(_outboxes.values())
