from django.db.models import Prefetch, QuerySet

from cancellations.models import CancellationPlan, CancellationPlanItem, CancellationRequest
from channels.models import SyncContentType
from channels.selectors import unsynced
from refunds.models import Refund


def cancellation_request_list(*, channel_id: int) -> QuerySet[CancellationRequest]:
    """A channel's requests, joined once for the plain and the detailed shapes: one query a page, whatever its size."""
    return CancellationRequest.objects.filter(order_item__order__channel_id=channel_id).select_related(
        "reason",
        "easy_return",
        "order_item__product",
        "order_item__order__channel",
        "order_item__order__customer",
    )


def cancellation_request_updates_list(*, channel_id: int) -> QuerySet[CancellationRequest]:
    """The channel's requests it has not received in their current version (see channels.selectors.unsynced),
    oldest first."""
    return unsynced(
        cancellation_request_list(channel_id=channel_id),
        channel_id=channel_id,
        content_type=SyncContentType.CANCELLATION_REQUEST,
    ).order_by("id")


def cancellation_plan_list(*, channel_id: int | None = None) -> QuerySet[CancellationPlan]:
    queryset = CancellationPlan.objects.prefetch_related(
        Prefetch("items", queryset=CancellationPlanItem.objects.order_by("id")),
        Prefetch("refunds", queryset=Refund.objects.order_by("id")),
    )
    if channel_id is not None:
        queryset = queryset.filter(order__channel_id=channel_id)
    return queryset
