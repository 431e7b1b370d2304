from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cancellations import services
from cancellations.filters import CancellationReasonFilter
from cancellations.models import CancellationReason
from cancellations.serializers import (
    CancellationReasonSerializer,
    OrderCancelInputSerializer,
    OrderCancelSummarySerializer,
)
from omnitron.api.idempotency import idempotent
from omnitron.api.mixins import ChannelScopedMixin
from omnitron.api.permissions import IsStaff
from omnitron.errors import ApplicationError
from orders.models import Order
from orders.selectors import order_get
from orders.serializers import OrderDetailSerializer


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


class OrderCancelView(APIView):
    """Cancel (unshipped) or return (shipped) items of an order, or refund its shipping fee alone."""

    permission_classes = [IsAuthenticated, IsStaff]

    def get_orders(self):
        return Order.objects.all()

    @extend_schema(
        tags=["order cancellation"],
        request=OrderCancelInputSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Repeats with the same key and body within 24 h get the first response again.",
            )
        ],
        responses={
            200: PolymorphicProxySerializer(
                component_name="OrderCancelResponse",
                serializers=[OrderDetailSerializer, OrderCancelSummarySerializer],
                resource_type_field_name=None,
            ),
            400: OpenApiResponse(description="Invalid input or a refused rule; the body carries a `code`."),
            404: OpenApiResponse(description="No such order (or it belongs to another channel)."),
            409: OpenApiResponse(description="A request with this Idempotency-Key is still being processed."),
            422: OpenApiResponse(description="This Idempotency-Key was used with a different body."),
        },
    )
    @idempotent
    def post(self, request, pk, **kwargs):
        order = get_object_or_404(self.get_orders(), pk=pk)
        data = OrderCancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        if body.get("order") is not None and body["order"] != order.pk:
            raise ApplicationError("order must equal the order id of the path.", code="order_mismatch", field="order")
        plan = services.order_cancel(
            order_id=order.pk,
            actor=request.user,
            item_ids=body["cancel_items"],
            is_all=body["is_all"],
            is_cargo_refund=body["is_cargo_refund"],
            reasons=body["reasons"],
            forced_refund_amount=body["forced_refund_amount"],
            refund_invoice_number=body.get("refund_invoice_number"),
            ibans=body["ibans"],
            holder_names=body["holder_names"],
        )
        if not body["return_details"]:
            return Response({"order": order.pk, "cancellation_plan": plan.pk})
        return Response(OrderDetailSerializer(order_get(order_id=order.pk)).data)


class ChannelOrderCancelView(ChannelScopedMixin, OrderCancelView):
    """The same, for a sales channel's own orders; another channel's order is 404."""

    def get_orders(self):
        return Order.objects.filter(channel_id=self.channel_id)
