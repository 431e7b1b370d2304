"""The ops dashboard's cards for the outboxes that tell the outside world (storefront cancel syncs, webhook
deliveries): rows that failed for good, waiting for someone to look. Wired here, where the apps meet; an outbox app
that is not installed has no card. The (status, next_attempt_at) index of each serves the count."""

from django.apps import apps

from common.dashboard import DashboardCard, dashboard_card
from common.outbox import OutboxStatus

OUTBOX_CARDS = [
    # (app label, model, key, title, position on the dashboard)
    ("storefront", "StorefrontSync", "storefront_syncs_failed", "Storefront syncs failed", 60),
    ("webhooks", "WebhookDelivery", "webhook_deliveries_failed", "Webhook deliveries failed", 70),
]


def _failed(model):
    return lambda: model.objects.filter(status=OutboxStatus.FAILED)


for app_label, model_name, key, title, position in OUTBOX_CARDS:
    if apps.is_installed(app_label):
        model = apps.get_model(app_label, model_name)
        dashboard_card(
            DashboardCard(
                key=key,
                title=title,
                model=model,
                rows=_failed(model),
                changelist_query=f"status__exact={OutboxStatus.FAILED}",
                tone="danger",
                position=position,
            )
        )
