from celery import shared_task

from common.api.idempotency import idempotency_purge


@shared_task(name="omnitron.idempotency_purge")
def idempotency_purge_task() -> None:
    idempotency_purge()


@shared_task(name="outbox.send")
def outbox_send_task(outbox: str, row_id: int) -> None:
    from common.outbox import outbox_named

    outbox_named(outbox).execute(row_id)


@shared_task(name="outbox.sweep")
def outbox_sweep_task() -> None:
    from common.outbox import outboxes

    for outbox in outboxes():
        outbox.sweep()
