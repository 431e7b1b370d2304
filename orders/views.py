from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from channels.mixins import ChannelScopedMixin
from common.api.permissions import IsStaff
from common.api.rows import RowListMixin
from orders import selectors, services
from orders.filters import OrderFilter, OrderItemFilter
from orders.models import OrderStatus
from orders.serializers import (
    OrderCreateInputSerializer,
    OrderDetailSerializer,
    OrderItemSerializer,
    OrderItemStatusInputSerializer,
    order_intake,
)


@extend_schema(tags=["orders"])
class OrderViewSet(RowListMixin, viewsets.ReadOnlyModelViewSet):
    """All orders, for the back office."""

    serializer_class = OrderDetailSerializer
    permission_classes = [IsAuthenticated, IsStaff]
    filterset_class = OrderFilter

    def get_queryset(self):
        return selectors.order_list()


@extend_schema(tags=["orders"])
class ChannelOrderViewSet(ChannelScopedMixin, RowListMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """A sales channel's own orders; it hands new ones over with POST."""

    serializer_class = OrderDetailSerializer
    filterset_class = OrderFilter

    def get_queryset(self):
        return selectors.order_list(channel_id=self.channel_id)

    @extend_schema(request=OrderCreateInputSerializer, responses={201: OrderDetailSerializer})
    def create(self, request, *args, **kwargs):
        data = OrderCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_create(
            channel=self.channel, intake=order_intake(data.validated_data), actor=request.user
        )
        return Response(
            OrderDetailSerializer(selectors.order_get(order_id=order.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        filters=False,
        responses={200: OrderDetailSerializer(many=True)},
        description=(
            "The channel's orders it has not received in their current version: never sent, offered again, or "
            "changed since (`modified_date` later than the `version_date` of the order's integration action). "
            "Oldest first. Committing a batch request that lists them marks them received."
        ),
    )
    @action(detail=False, methods=["get"], url_path="updates", url_name="updates")
    def updates(self, request, *args, **kwargs):
        return self.rows_response(selectors.order_updates_list(channel_id=self.channel_id))


ORDER_ITEM_STATUS_REQUEST = {
    "application/json": {
        "type": "object",
        "properties": {"status": {"type": "string", "enum": [value for value, _label in OrderStatus.choices]}},
        "required": ["status"],
    }
}


class _OrderItemStatusMixin(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = OrderItemSerializer
    filterset_class = OrderItemFilter
    http_method_names = ["get", "patch", "head", "options"]

    # A plain schema, not the serializer: drf-spectacular would make every field of a PATCH body optional, and
    # `status` is required here (`{}` is a 400).
    @extend_schema(request=ORDER_ITEM_STATUS_REQUEST, responses={200: OrderItemSerializer})
    def partial_update(self, request, *args, **kwargs):
        item = self.get_object()
        data = OrderItemStatusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.order_item_status_update(
            item_id=item.pk, status=data.validated_data["status"], actor=request.user
        )
        return Response(OrderItemSerializer(self.get_queryset().get(pk=item.pk)).data)


@extend_schema(tags=["orders"])
class OrderItemViewSet(_OrderItemStatusMixin):
    """Order items (list filtered by `order`, as channel-app reads them) and their fulfilment progress
    (back office)."""

    permission_classes = [IsAuthenticated, IsStaff]

    def get_queryset(self):
        return selectors.order_item_list()


@extend_schema(tags=["orders"])
class ChannelOrderItemViewSet(ChannelScopedMixin, _OrderItemStatusMixin):
    """The channel's own order items and their fulfilment progress."""

    def get_queryset(self):
        return selectors.order_item_list(channel_id=self.channel_id)
