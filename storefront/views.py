from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from common.api.permissions import IsStaff
from storefront import services
from storefront.filters import StorefrontSyncFilter
from storefront.models import StorefrontSync
from storefront.serializers import StorefrontSyncSerializer


@extend_schema(tags=["storefront syncs"])
class StorefrontSyncViewSet(viewsets.ReadOnlyModelViewSet):
    """Cancellations told to the storefronts the orders came from, newest first; a failed one can be retried."""

    queryset = StorefrontSync.objects.order_by("-id")
    serializer_class = StorefrontSyncSerializer
    permission_classes = [IsAuthenticated, IsStaff]
    filterset_class = StorefrontSyncFilter

    @extend_schema(
        request=None,
        responses={
            200: StorefrontSyncSerializer,
            400: OpenApiResponse(description="The sync is not failed or pending (`code` sync_not_retryable)."),
        },
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, *args, **kwargs):
        """Send the sync now (after the commit; without a broker, before this answer): the answer shows its state."""
        sync = services.storefront_sync_retry(sync_id=self.get_object().pk)
        return Response(StorefrontSyncSerializer(sync).data)
