import django_filters
from django.contrib.auth import get_user_model

from channels.models import BatchRequest, BatchRequestStatus, Channel, ChannelType, IntegrationAction, SyncContentType
from common.api.filters import FilterSet, IdFilter, IdInFilter, StrictBooleanFilter


class CharInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """`?remote_id__in=A1,B2`: comma-separated values."""


class IdOrderingFilter(django_filters.OrderingFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, fields=(("id", "id"),), help_text="`id` or `-id` (channel-app sends `sort=id`).")


class IntegrationActionFilter(FilterSet):
    """What channel-app asks for. It also sends `channel_id`, `local_batch_id` and `status`, which name nothing
    this service tracks on an action: they are ignored like any unknown parameter."""

    content_type_name = django_filters.ChoiceFilter(field_name="content_type", choices=SyncContentType.choices)
    content_type = django_filters.ChoiceFilter(
        choices=SyncContentType.choices, help_text="The same as `content_type_name`."
    )
    object_id__in = IdInFilter(field_name="object_id", lookup_expr="in", help_text="Comma-separated object ids.")
    remote_id__exact = django_filters.CharFilter(field_name="remote_id", lookup_expr="exact")
    remote_id__in = CharInFilter(field_name="remote_id", lookup_expr="in", help_text="Comma-separated remote ids.")
    channel = IdFilter(field_name="channel_id")
    sort = IdOrderingFilter()

    class Meta:
        model = IntegrationAction
        fields = ()


class BatchRequestFilter(FilterSet):
    # channel-app asks for `?status=sent_to_remote&status=ongoing`.
    status = django_filters.MultipleChoiceFilter(choices=BatchRequestStatus.choices, help_text="Repeat for several.")
    content_type = django_filters.ChoiceFilter(choices=SyncContentType.choices)
    local_batch_id = django_filters.UUIDFilter()
    channel = IdFilter(field_name="channel_id")
    sort = IdOrderingFilter()

    class Meta:
        model = BatchRequest
        fields = ()


class ChannelFilter(FilterSet):
    channel_type = django_filters.ChoiceFilter(choices=ChannelType.choices)
    is_active = StrictBooleanFilter()

    class Meta:
        model = Channel
        fields = ()


class UserFilter(FilterSet):
    is_staff = StrictBooleanFilter()

    class Meta:
        model = get_user_model()
        fields = ()
