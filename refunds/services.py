import logging
import time
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from refunds.models import Refund, RefundStatus
from refunds.rails import RailOutcome, rail_for
from refunds.signals import refund_failed, refund_succeeded

logger = logging.getLogger(__name__)


def refund_create(
    *, plan, kind: str, method: str, amount: Decimal, currency: str, iban: str = "", holder_name: str = ""
) -> Refund:
    """Write the refund row (the outbox entry) in the caller's transaction; `refund_enqueue` sends it on commit."""
    return Refund.objects.create(
        plan=plan, kind=kind, method=method, amount=amount, currency=currency, iban=iban, holder_name=holder_name
    )


def refund_enqueue(*, refund_ids: list[int]) -> None:
    """Queue the refunds once the surrounding transaction commits; a lost message is re-sent by the sweeper."""
    from refunds.tasks import refund_execute_task

    for refund_id in refund_ids:
        transaction.on_commit(lambda refund_id=refund_id: refund_execute_task.delay(refund_id))


def _lease(refund_id: int) -> Refund | None:
    """Take the refund for one attempt, or None when it is final, or another worker holds it."""
    now = timezone.now()
    with transaction.atomic():
        refund = Refund.objects.select_for_update(skip_locked=True).filter(pk=refund_id).first()
        if refund is None or refund.status in (RefundStatus.SUCCEEDED, RefundStatus.FAILED):
            return None
        if refund.status == RefundStatus.PROCESSING and refund.leased_until and refund.leased_until > now:
            return None
        refund.status = RefundStatus.PROCESSING
        refund.attempts += 1
        refund.leased_until = now + timedelta(seconds=settings.REFUND_LEASE_SECONDS)
        refund.save(update_fields=["status", "attempts", "leased_until", "modified_date"])
    return refund


def refund_record_outcome(*, refund_id: int, outcome: RailOutcome) -> Refund | None:
    """Make the attempt's outcome durable; on a final outcome the plan bookkeeping runs in the same transaction."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != RefundStatus.PROCESSING:
            return None  # someone else settled it meanwhile (an operator, or a worker whose lease we outlived)
        refund.leased_until = None
        if outcome.succeeded:
            refund.status = RefundStatus.SUCCEEDED
            refund.gateway_reference = outcome.reference[:128]
            refund.settled_at = timezone.now()
            refund.last_error = ""
            refund.save(
                update_fields=[
                    "status",
                    "gateway_reference",
                    "settled_at",
                    "last_error",
                    "leased_until",
                    "modified_date",
                ]
            )
            refund_succeeded.send(sender=Refund, refund=refund)
        elif outcome.retryable and refund.attempts < settings.REFUND_MAX_ATTEMPTS:
            refund.status = RefundStatus.PENDING
            refund.last_error = outcome.error
            refund.save(update_fields=["status", "last_error", "leased_until", "modified_date"])
        else:
            refund.status = RefundStatus.FAILED
            refund.last_error = outcome.error
            refund.save(update_fields=["status", "last_error", "leased_until", "modified_date"])
            refund_failed.send(sender=Refund, refund=refund)
    return refund


def refund_execute(*, refund_id: int) -> Refund | None:
    """One attempt at a refund: lease the row, call its rail outside any lock, record the outcome."""
    refund = _lease(refund_id)
    if refund is None:
        return None
    rail = rail_for(refund)
    started = time.monotonic()
    try:
        outcome = rail.refund(refund)
    except Exception as exc:  # an unexpected rail error must not leave the refund leased until the sweeper
        logger.exception("refund %s: rail %s raised", refund.pk, type(rail).__name__)
        outcome = RailOutcome(succeeded=False, error=f"{type(exc).__name__}: {exc}", retryable=True)
    logger.info(
        "refund %s attempt %s rail=%s outcome=%s duration_ms=%.0f",
        refund.pk,
        refund.attempts,
        type(rail).__name__,
        "succeeded" if outcome.succeeded else ("retry" if outcome.retryable else "failed"),
        (time.monotonic() - started) * 1000,
    )
    return refund_record_outcome(refund_id=refund.pk, outcome=outcome)


def refund_retry_failed(*, plan) -> list[int]:
    """Put a plan's failed refunds back in the queue (attempts are kept). Caller holds the plan's lock."""
    ids = list(plan.refunds.filter(status=RefundStatus.FAILED).values_list("pk", flat=True))
    Refund.objects.filter(pk__in=ids).update(
        status=RefundStatus.PENDING, leased_until=None, modified_date=timezone.now()
    )
    refund_enqueue(refund_ids=ids)
    return ids
