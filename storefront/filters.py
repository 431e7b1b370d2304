import django_filters

from common.api.filters import IdFilter
from common.outbox import OutboxStatus
from storefront.models import StorefrontSync


class StorefrontSyncFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=OutboxStatus.choices)
    order_id = IdFilter(field_name="order_id")
    channel = IdFilter(field_name="channel_id")

    class Meta:
        model = StorefrontSync
        fields = ()
