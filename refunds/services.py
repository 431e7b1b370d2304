import csv
import io
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from celery import current_app as app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from common.after_response import after_response
from common.compiled import prepared_statements
from common.errors import ApplicationError
from common.outbox import RetryPolicy
from orders.models import OrderEvent, OrderEventType
from orders.services import order_events_write
from refunds.hooks import refund_owner
from refunds.lease import lease_in_one_statement, outcomes_under_lease
from refunds.models import BankTransfer, BankTransferStatus, Refund, RefundStatus
from refunds.rails import RailOutcome, rail_for

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class NewRefund:
    kind: str
    method: str
    amount: Decimal
    instructions: dict  # what the rail needs beyond the amount, decided now (see `Refund.instructions`)


def refunds_create(
    *, order, plan, refunds: list[NewRefund], currency: str, iban: str = "", holder_name: str = ""
) -> list[Refund]:
    """Write a plan's refund rows (the outbox entries) in the caller's transaction, in one INSERT;
    `refund_enqueue` sends them on commit."""
    return Refund.objects.bulk_create(
        [
            Refund(
                order=order,
                channel_id=order.channel_id,
                plan=plan,
                kind=refund.kind,
                method=refund.method,
                amount=refund.amount,
                currency=currency,
                iban=iban,
                holder_name=holder_name,
                instructions=refund.instructions,
            )
            for refund in refunds
        ]
    )


def _send(refund_ids: list[int], countdown: float | None = None) -> None:
    """Nudge a worker to attempt these refunds, in one message (a plan's refunds run together). The refund rows are
    the truth: if the broker is unreachable the sweeper sends them later."""
    from refunds.tasks import refunds_execute_task  # tasks import this module

    try:
        refunds_execute_task.apply_async((list(refund_ids),), countdown=countdown)
    except Exception:  # broker down or slow: never fail the caller, whose transaction has committed
        logger.warning("refunds %s: could not reach the broker; the sweeper will send them", refund_ids, exc_info=True)


def refund_enqueue(*, refund_ids: list[int]) -> None:
    """Queue the refunds, in one message, once the surrounding transaction commits (in a request, once its response
    has gone out: `common.after_response`)."""
    if refund_ids:
        batch = list(refund_ids)
        transaction.on_commit(lambda: after_response(lambda: _send(batch)))


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter (the outboxes' policy): base * 2**(attempt-1), capped, plus up to half of it
    at random."""
    policy = RetryPolicy(base_delay=settings.REFUND_RETRY_BASE_DELAY, max_delay=settings.REFUND_RETRY_MAX_DELAY)
    return policy.delay(attempt)


FINAL_STATUSES = (RefundStatus.SUCCEEDED, RefundStatus.FAILED)


def _lease_locked(refund_id: int, *, now, until, token) -> Refund | None:
    """The ORM's lease of one refund (not PostgreSQL): a locked read, then the write, in one transaction."""
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("order")
            .filter(pk=refund_id)
            .first()
        )
        if refund is None or refund.status in FINAL_STATUSES:
            return None
        if refund.status == RefundStatus.PROCESSING and (refund.leased_until is None or refund.leased_until > now):
            return None
        if refund.status == RefundStatus.PENDING and refund.next_attempt_at and refund.next_attempt_at > now:
            return None
        refund.status = RefundStatus.PROCESSING
        refund.attempts += 1
        refund.leased_until = until
        refund.lease_token = token
        refund.next_attempt_at = None
        refund.save(
            update_fields=["status", "attempts", "leased_until", "lease_token", "next_attempt_at", "modified_date"]
        )
    return refund


def refunds_lease(*, refund_ids: list[int]) -> list[Refund]:
    """Take the refunds for one attempt each, in id order, each with its order (the rails read it). A refund is
    left out when it is final, leased by another worker, waiting for an outside settlement, or not due yet. One
    statement on PostgreSQL for the whole batch (see `refunds.lease`); elsewhere a locked read, then the write, per
    refund. The batch shares one lease token: the fencing checks it together with the refund's id."""
    if not refund_ids:
        return []
    now = timezone.now()
    until = now + timedelta(seconds=settings.REFUND_LEASE_SECONDS)
    token = uuid.uuid4()
    if connection.vendor == "postgresql":
        return lease_in_one_statement(refund_ids=refund_ids, now=now, until=until, token=token)
    leased = (_lease_locked(refund_id, now=now, until=until, token=token) for refund_id in sorted(set(refund_ids)))
    return [refund for refund in leased if refund is not None]


def refund_lease(*, refund_id: int) -> Refund | None:
    """`refunds_lease` of one refund: the refund leased, or None."""
    leased = refunds_lease(refund_ids=[refund_id])
    return leased[0] if leased else None


def _outcome_changes(refund: Refund, outcome: RailOutcome) -> dict:
    """What an attempt's outcome writes to its refund."""
    if outcome.succeeded:
        return {
            "status": RefundStatus.SUCCEEDED,
            "gateway_reference": outcome.reference[:128],
            "settled_at": timezone.now(),
            "last_error": "",
            "leased_until": None,
        }
    if outcome.awaiting_settlement:
        return {"gateway_reference": outcome.reference[:128], "leased_until": None}
    if outcome.retryable and refund.attempts < settings.REFUND_MAX_ATTEMPTS:
        delay = retry_delay(refund.attempts)
        return {
            "status": RefundStatus.PENDING,
            "last_error": outcome.error,
            "leased_until": None,
            "next_attempt_at": timezone.now() + timedelta(seconds=delay),
        }
    return {"status": RefundStatus.FAILED, "last_error": outcome.error, "leased_until": None}


def _record_order_outcomes(attempts: list[tuple[Refund, RailOutcome]]) -> list[Refund]:
    """The outcomes of one order's refunds, in one transaction: the owner's lock first when any outcome is final,
    then each outcome under its lease (those that change the same fields in one statement on PostgreSQL), then the
    owner's bookkeeping of the final ones, together."""
    recorded = []
    # Every statement of the batch's transaction prepared once per connection (PostgreSQL): their texts repeat from
    # batch to batch, and a worker runs batch after batch.
    with prepared_statements(), transaction.atomic():
        now = timezone.now()
        changes = [
            (refund, {**_outcome_changes(refund, outcome), "modified_date": now}) for refund, outcome in attempts
        ]
        final = any(change.get("status") in FINAL_STATUSES for _, change in changes)
        locked = refund_owner().lock(attempts[0][0]) if final else None
        written = outcomes_under_lease([(refund.pk, refund.lease_token, change) for refund, change in changes])
        for refund, change in changes:
            if refund.pk not in written:
                logger.warning("refund %s: outcome not recorded, the refund is settled or leased by another", refund.pk)
                continue
            for field, value in change.items():
                setattr(refund, field, value)
            recorded.append(refund)
        settled = [refund for refund in recorded if refund.status in FINAL_STATUSES]
        if settled:
            refund_owner().settled(settled, locked)
        retries = [refund for refund in recorded if refund.status == RefundStatus.PENDING]
        if retries and not app.conf.task_always_eager:
            # In-process tasks would retry at once, inside the request: leave those to the sweeper. One message for
            # the batch, when the last of them is due.
            delay = max((refund.next_attempt_at - now).total_seconds() for refund in retries)
            retry_ids = [refund.pk for refund in retries]
            transaction.on_commit(lambda: _send(retry_ids, countdown=delay))
    return recorded


def refunds_record_outcomes(attempts: list[tuple[Refund, RailOutcome]]) -> list[Refund]:
    """Make the attempts' outcomes durable (`attempts`: each refund as its lease returned it, with the outcome of its
    rail call). One transaction per order; on a final outcome the owner's bookkeeping runs in it, under the owner's
    lock, taken first (see `refunds.hooks`). An outcome is recorded only while the lease it was attempted under is
    still the refund's (its `lease_token`), so a worker whose lease ran out and was taken over records nothing.
    Returns the refunds whose outcome was recorded."""
    by_order: dict[int, list] = {}
    for refund, outcome in attempts:
        by_order.setdefault(refund.order_id, []).append((refund, outcome))
    recorded = []
    for order_id in sorted(by_order):
        recorded += _record_order_outcomes(by_order[order_id])
    return recorded


def refund_record_outcome(*, refund_id: int, outcome: RailOutcome, leased: Refund | None = None) -> Refund | None:
    """`refunds_record_outcomes` of one attempt. `leased`: the refund as the lease returned it (saves reading it
    again). None when the outcome was not recorded: the refund was settled meanwhile, or its lease is another's."""
    refund = leased or Refund.objects.get(pk=refund_id)
    recorded = refunds_record_outcomes([(refund, outcome)])
    return recorded[0] if recorded else None


def _attempt(refund: Refund) -> RailOutcome:
    """Call the refund's rail, outside any lock and transaction; an unexpected error is a retryable outcome."""
    rail = rail_for(refund)
    started = time.monotonic()
    try:
        outcome = rail.refund(refund)
    except Exception as exc:  # an unexpected rail error must not leave the refund leased until the sweeper
        logger.exception("refund %s: rail %s raised", refund.pk, type(rail).__name__)
        outcome = RailOutcome(succeeded=False, error=f"{type(exc).__name__}: {exc}", retryable=True)
    if outcome.succeeded:
        verdict = "succeeded"
    elif outcome.awaiting_settlement:
        verdict = "awaiting_settlement"
    else:
        verdict = "retry" if outcome.retryable and refund.attempts < settings.REFUND_MAX_ATTEMPTS else "failed"
    logger.info(
        "refund %s attempt %s rail=%s outcome=%s duration_ms=%.0f error=%s",
        refund.pk,
        refund.attempts,
        type(rail).__name__,
        verdict,
        (time.monotonic() - started) * 1000,
        outcome.error or "-",
    )
    return outcome


def refunds_execute(*, refund_ids: list[int]) -> list[Refund]:
    """One attempt at each of a batch of refunds (a plan's, as one message brings them): lease them in one go, call
    each one's rail outside any lock, record the outcomes, one transaction per order. Returns the refunds whose
    outcome was recorded."""
    leased = refunds_lease(refund_ids=refund_ids)
    return refunds_record_outcomes([(refund, _attempt(refund)) for refund in leased])


def refund_execute(*, refund_id: int) -> Refund | None:
    """`refunds_execute` of one refund: the refund as recorded, or None when it was not leasable or its outcome
    not recorded."""
    recorded = refunds_execute(refund_ids=[refund_id])
    return recorded[0] if recorded else None


def _due(now=None):
    """Refunds a worker should pick up, the first 1000 by id: pending and due, or processing with an expired lease."""
    now = now or timezone.now()
    due = Q(status=RefundStatus.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    stale = Q(status=RefundStatus.PROCESSING, leased_until__lt=now)
    return Refund.objects.filter(due | stale).order_by("id")[:1000]


def refunds_due(*, now=None) -> list[int]:
    return list(_due(now).values_list("pk", flat=True))


def refunds_sweep(*, now=None) -> list[int]:
    """Re-send every refund that is due, a message per plan; a lost message or a broker outage delays a refund,
    never loses it."""
    by_plan: dict[int, list[int]] = {}
    for refund_id, plan_id in _due(now).values_list("pk", "plan_id"):
        by_plan.setdefault(plan_id, []).append(refund_id)
    refund_ids = [refund_id for plan_refunds in by_plan.values() for refund_id in plan_refunds]
    for plan_refunds in by_plan.values():
        _send(plan_refunds)
    if refund_ids:
        logger.info("sweeper re-sent %s refund(s): %s", len(refund_ids), refund_ids[:20])
    return refund_ids


def refund_retry_failed(*, plan) -> list[int]:
    """Put a plan's failed refunds back in the queue (attempts are kept). Caller holds the plan's lock."""
    ids = list(plan.refunds.filter(status=RefundStatus.FAILED).values_list("pk", flat=True))
    Refund.objects.filter(pk__in=ids).update(
        status=RefundStatus.PENDING, leased_until=None, next_attempt_at=None, modified_date=timezone.now()
    )
    refund_enqueue(refund_ids=ids)
    return ids


# Bank transfers ---------------------------------------------------------------------------------------------------

BANK_FILE_COLUMNS = ["reference", "iban", "holder_name", "amount", "currency", "order_number", "refund_id"]
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such a cell is written with
# a leading apostrophe, which spreadsheets show as text and banks' importers ignore.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def bank_transfers_export(*, transfer_ids: list[int], actor=None) -> str:
    """The CSV file for the bank of the given payouts still to be paid; they become `exported`, and each order's
    trail says which of its transfers went into a file, and who made it."""
    with transaction.atomic():
        transfers = list(
            BankTransfer.objects.select_for_update()
            .filter(pk__in=transfer_ids, status__in=[BankTransferStatus.PENDING, BankTransferStatus.EXPORTED])
            .select_related("refund__order")
            .order_by("id")
        )
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(BANK_FILE_COLUMNS)
        for transfer in transfers:
            row = [
                transfer.reference,
                transfer.iban,
                transfer.holder_name,
                f"{transfer.amount:.2f}",
                transfer.currency.upper(),
                transfer.refund.order.number,
                transfer.refund_id,
            ]
            writer.writerow([csv_cell(cell) for cell in row])
        now = timezone.now()
        BankTransfer.objects.filter(pk__in=[t.pk for t in transfers], status=BankTransferStatus.PENDING).update(
            status=BankTransferStatus.EXPORTED, exported_at=now, modified_date=now
        )
        order_events_write(
            [
                OrderEvent(
                    order_id=transfer.refund.order_id,
                    type=OrderEventType.BANK_TRANSFER_EXPORTED,
                    actor=actor,
                    payload={
                        "bank_transfer": transfer.pk,
                        "refund": transfer.refund_id,
                        "reference": transfer.reference,
                    },
                )
                for transfer in transfers
            ]
        )
    return out.getvalue()


def bank_transfers_mark_paid(*, transfer_ids: list[int]) -> int:
    """The bank paid these out: settle their refunds. Only exported transfers can be paid; if any selected one is
    not, nothing is paid."""
    not_exported = list(
        BankTransfer.objects.filter(pk__in=transfer_ids)
        .exclude(status=BankTransferStatus.EXPORTED)
        .values_list("reference", "status")
    )
    if not_exported:
        listed = ", ".join(f"{reference} ({status})" for reference, status in not_exported)
        raise ApplicationError(
            f"Only exported transfers can be paid; not exported: {listed}.", code="transfer_not_exported"
        )
    paid = 0
    for transfer_id in sorted(transfer_ids):
        with transaction.atomic():
            locked = refund_owner().lock(Refund.objects.get(bank_transfer__pk=transfer_id))
            transfer = BankTransfer.objects.select_for_update().get(pk=transfer_id)
            if transfer.status != BankTransferStatus.EXPORTED:
                raise ApplicationError(
                    f"Transfer {transfer.reference} is {transfer.status}; only an exported transfer can be paid.",
                    code="transfer_not_exported",
                )
            refund = Refund.objects.select_for_update().get(pk=transfer.refund_id)
            transfer.status = BankTransferStatus.PAID
            transfer.paid_at = timezone.now()
            transfer.save(update_fields=["status", "paid_at", "modified_date"])
            if refund.status == RefundStatus.PROCESSING:
                changes = _outcome_changes(refund, RailOutcome(succeeded=True, reference=transfer.reference))
                for field, value in changes.items():
                    setattr(refund, field, value)
                refund.save(update_fields=[*changes, "modified_date"])
                refund_owner().settled([refund], locked)
                paid += 1
    return paid
