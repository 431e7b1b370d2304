from django.core.management.base import BaseCommand

from common.outbox import outboxes


class Command(BaseCommand):
    help = (
        "Send every outbox row that is due (storefront syncs, webhook deliveries: pending, or processing past its "
        "lease) to the workers; without a broker they run here, in-process. Celery beat runs the same sweep every "
        "OUTBOX_SWEEP_INTERVAL seconds."
    )

    def handle(self, *args, **options):
        for outbox in outboxes():
            row_ids = outbox.sweep()
            self.stdout.write(f"{outbox.name}: sent {len(row_ids)} row(s)" + (f": {row_ids}" if row_ids else ""))
