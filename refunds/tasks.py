from celery import shared_task

from refunds import services


@shared_task(name="refunds.execute")
def refund_execute_task(refund_id: int) -> None:
    services.refund_execute(refund_id=refund_id)


@shared_task(name="refunds.sweep")
def refunds_sweep_task() -> None:
    services.refunds_sweep()
