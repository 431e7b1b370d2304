from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from common.api.permissions import IsStaff
from webhooks import services
from webhooks.filters import WebhookDeliveryFilter, WebhookFilter
from webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from webhooks.serializers import WebhookDeliverySerializer, WebhookSerializer

URL_REFUSED = OpenApiResponse(description="Invalid input, or the URL is not http(s) or names a private host.")


@extend_schema(tags=["webhooks"])
class WebhookViewSet(viewsets.ModelViewSet):
    """Webhook subscriptions of the channels (back office)."""

    queryset = Webhook.objects.order_by("id")
    serializer_class = WebhookSerializer
    permission_classes = [IsAuthenticated, IsStaff]
    filterset_class = WebhookFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @extend_schema(responses={201: WebhookSerializer, 400: URL_REFUSED})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook = services.webhook_create(**serializer.validated_data)
        return Response(self.get_serializer(webhook).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: WebhookSerializer, 400: URL_REFUSED})
    def partial_update(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        webhook = services.webhook_update(webhook=serializer.instance, **serializer.validated_data)
        return Response(self.get_serializer(webhook).data)

    def perform_destroy(self, instance):
        services.webhook_delete(webhook=instance)


@extend_schema(tags=["webhooks"])
class WebhookDeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """Every delivery of every event to every subscription, newest first, with the log of its attempts."""

    queryset = WebhookDelivery.objects.order_by("-id").prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("id"))
    )
    serializer_class = WebhookDeliverySerializer
    permission_classes = [IsAuthenticated, IsStaff]
    filterset_class = WebhookDeliveryFilter

    @extend_schema(
        request=None,
        responses={
            200: WebhookDeliverySerializer,
            400: OpenApiResponse(description="A worker is sending it right now (`code` delivery_busy)."),
        },
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request, *args, **kwargs):
        """Send the same event (same id, same body) again, with another 24 h of retries; the answer shows the
        delivery after the commit (without a broker, after the attempt)."""
        delivery = services.webhook_redeliver(delivery_id=self.get_object().pk)
        return Response(WebhookDeliverySerializer(delivery).data)
