from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed webhooks: a channel's subscribers hear of its cancellations, plans, refunds and cancelled orders."""

    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from common.outbox import register_outbox
        from webhooks.services import WEBHOOK_OUTBOX

        register_outbox(WEBHOOK_OUTBOX)
