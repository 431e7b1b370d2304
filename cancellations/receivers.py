from django.dispatch import receiver

from cancellations import services
from refunds.signals import refund_failed, refund_succeeded


@receiver(refund_succeeded, dispatch_uid="cancellations.plan_refund_succeeded")
def on_refund_succeeded(sender, refund, **kwargs):
    services.plan_refund_succeeded(refund=refund)


@receiver(refund_failed, dispatch_uid="cancellations.plan_refund_failed")
def on_refund_failed(sender, refund, **kwargs):
    services.plan_refund_failed(refund=refund)
