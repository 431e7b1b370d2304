from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated

from cancellations import services
from cancellations.filters import CancellationReasonFilter
from cancellations.models import CancellationReason
from cancellations.serializers import CancellationReasonSerializer
from omnitron.api.mixins import ChannelScopedMixin
from omnitron.api.permissions import IsStaff


@extend_schema(tags=["cancellation reasons"])
class CancellationReasonViewSet(viewsets.ModelViewSet):
    """Back office: every reason, active or not. DELETE deactivates the reason (204)."""

    queryset = CancellationReason.objects.all()
    serializer_class = CancellationReasonSerializer
    permission_classes = [IsAuthenticated, IsStaff]
    filterset_class = CancellationReasonFilter

    def perform_destroy(self, instance):
        services.cancellation_reason_deactivate(reason=instance)


@extend_schema(tags=["cancellation reasons"])
class ChannelCancellationReasonViewSet(ChannelScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Sales channels: the active reasons to offer their customers."""

    queryset = CancellationReason.objects.filter(is_active=True)
    serializer_class = CancellationReasonSerializer
    filterset_class = CancellationReasonFilter
