from django.core.management.base import BaseCommand

from refunds.services import refunds_sweep


class Command(BaseCommand):
    help = (
        "Send every refund that is due (pending, or processing past its lease) to the workers; without a broker "
        "they run here, in-process. Celery beat runs the same sweep every REFUND_SWEEP_INTERVAL seconds."
    )

    def handle(self, *args, **options):
        refund_ids = refunds_sweep()
        self.stdout.write(f"sent {len(refund_ids)} refund(s)" + (f": {refund_ids}" if refund_ids else ""))
