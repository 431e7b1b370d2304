from celery import shared_task

from common.api.idempotency import idempotency_purge


@shared_task(name="omnitron.idempotency_purge")
def idempotency_purge_task() -> None:
    idempotency_purge()
