import django_filters

from common.api.filters import FilterSet, IdFilter
from common.outbox import OutboxStatus
from webhooks.models import Webhook, WebhookDelivery, WebhookEventType


class WebhookFilter(FilterSet):
    channel = IdFilter(field_name="channel_id")

    class Meta:
        model = Webhook
        fields = ()


class WebhookDeliveryFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=OutboxStatus.choices)
    event_type = django_filters.ChoiceFilter(choices=WebhookEventType.choices)
    webhook = IdFilter(field_name="webhook_id")
    channel = IdFilter(field_name="channel_id")

    class Meta:
        model = WebhookDelivery
        fields = ()
