from celery import shared_task

from refunds import services


@shared_task(name="refunds.execute_batch")
def refunds_execute_task(refund_ids: list[int]) -> None:
    """One attempt at each refund of the batch (a plan's refunds, as `refund_enqueue` and the sweeper send them)."""
    services.refunds_execute(refund_ids=refund_ids)


@shared_task(name="refunds.execute")
def refund_execute_task(refund_id: int) -> None:
    """One refund's attempt: the message of one refund, as earlier releases sent them; still taken."""
    services.refunds_execute(refund_ids=[refund_id])


@shared_task(name="refunds.sweep")
def refunds_sweep_task() -> None:
    services.refunds_sweep()
