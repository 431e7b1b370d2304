from django.db.models import Exists, OuterRef, QuerySet

from channels.models import BatchRequest, IntegrationAction


def integration_action_list(*, channel_id: int) -> QuerySet[IntegrationAction]:
    return IntegrationAction.objects.filter(channel_id=channel_id).order_by("id")


def batch_request_list(*, channel_id: int) -> QuerySet[BatchRequest]:
    return BatchRequest.objects.filter(channel_id=channel_id).order_by("id")


def unsynced(queryset: QuerySet, *, channel_id: int, content_type: str) -> QuerySet:
    """The objects of `queryset` the channel has not received in their current version: no integration action,
    or one whose `version_date` is null or older than the object's `modified_date`.

    One anti-join per row, served by the unique index on (channel, content_type, object_id); it adds no query.
    """
    received = IntegrationAction.objects.filter(
        channel_id=channel_id,
        content_type=content_type,
        object_id=OuterRef("pk"),
        version_date__gte=OuterRef("modified_date"),
    )
    return queryset.filter(~Exists(received))
