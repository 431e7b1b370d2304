import django_filters

from common.api.filters import FilterSet, IdFilter
from common.outbox import OutboxStatus
from storefront.models import StorefrontSync


class StorefrontSyncFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=OutboxStatus.choices)
    order_id = IdFilter(field_name="order_id")
    channel = IdFilter(field_name="channel_id")

    class Meta:
        model = StorefrontSync
        fields = ()
