from contextlib import contextmanager

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cancellations import selectors, services
from cancellations.filters import CancellationPlanFilter, CancellationReasonFilter, CancellationRequestFilter
from cancellations.models import CancellationReason
from cancellations.serializers import (
    CancellationPlanSerializer,
    CancellationReasonSerializer,
    CancellationRequestApproveInputSerializer,
    CancellationRequestDetailedSerializer,
    CancellationRequestInputSerializer,
    CancellationRequestSerializer,
    OrderCancelInputSerializer,
    OrderCancelQuoteSerializer,
    OrderCancelSummarySerializer,
    OrderEligibilitySerializer,
    cancellation_request_detailed_data,
)
from channels.mixins import ChannelScopedMixin
from common.api.idempotency import KEY_SCHEMA, idempotent
from common.api.pagination import ids_of
from common.api.permissions import HasChannelAccess, IsStaff
from common.api.rows import RowListMixin
from common.errors import ApplicationError
from orders.models import Order, OrderItem
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
    """Cancel (unshipped) or return (shipped) items of an order, or refund its shipping fee alone.

    The order is read once, under the service's lock, not before it: an unknown order (or another channel's) is 404,
    and a refused body sent for one is 404 as well, not 400 (one existence read, on that refusal only)."""

    permission_classes = [IsAuthenticated, IsStaff]

    def order_channel_id(self) -> int | None:
        """The channel the path's order must belong to; None: any channel's (the back office)."""
        return None

    @contextmanager
    def order_found_first(self, pk):
        """Around the call: no such order is 404, whatever else the body got wrong (as when the view read it first)."""
        try:
            yield
        except Order.DoesNotExist:
            raise Http404 from None
        except (APIException, ApplicationError):
            orders = Order.objects.filter(pk=pk)
            channel_id = self.order_channel_id()
            if not (orders if channel_id is None else orders.filter(channel_id=channel_id)).exists():
                raise Http404 from None
            raise

    @extend_schema(
        tags=["order cancellation"],
        request=OrderCancelInputSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                KEY_SCHEMA,
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
            409: OpenApiResponse(
                description="A request with this Idempotency-Key is still being processed, or the order changed "
                "since the quote named by `quote_id` was made (`quote_stale`)."
            ),
            422: OpenApiResponse(description="This Idempotency-Key was used with a different body."),
        },
    )
    @idempotent
    def post(self, request, pk, **kwargs):
        with self.order_found_first(pk):
            data = self.parse(request, pk)
            body = data.validated_data
            if body.get("quote_id"):
                plan = services.cancellation_quote_commit(
                    quote_id=body["quote_id"],
                    order_id=pk,
                    channel_id=self.order_channel_id(),
                    actor=request.user,
                    body_fingerprint=services.cancel_body_fingerprint(body),
                    **data.cancel_kwargs(),
                )
            else:
                plan = services.order_cancel(
                    order_id=pk, channel_id=self.order_channel_id(), actor=request.user, **data.cancel_kwargs()
                )
        if not body["return_details"]:
            return Response({"order": pk, "cancellation_plan": plan.pk})
        return Response(OrderDetailSerializer(order_get(order_id=pk)).data)

    def parse(self, request, pk) -> OrderCancelInputSerializer:
        data = OrderCancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sent_order = data.validated_data.get("order")
        if sent_order is not None and sent_order != pk:
            raise ApplicationError("order must equal the order id of the path.", code="order_mismatch", field="order")
        return data


class ChannelOrderCancelView(ChannelScopedMixin, OrderCancelView):
    """The same, for a sales channel's own orders; another channel's order is 404."""

    def order_channel_id(self) -> int | None:
        return self.channel_id


class OrderCancelQuoteView(OrderCancelView):
    """Price a cancellation without making it: the plan `cancel/` would make for this body, valid 15 minutes."""

    @extend_schema(
        tags=["order cancellation"],
        request=OrderCancelInputSerializer,
        responses={
            200: OrderCancelQuoteSerializer,
            400: OpenApiResponse(description="Refused exactly as cancel/ would refuse; the body carries a `code`."),
            404: OpenApiResponse(description="No such order (or it belongs to another channel)."),
        },
    )
    def post(self, request, pk, **kwargs):
        with self.order_found_first(pk):
            data = self.parse(request, pk)
            quote = services.cancellation_quote_create(
                order_id=pk,
                channel_id=self.order_channel_id(),
                actor=request.user,
                body_fingerprint=services.cancel_body_fingerprint(data.validated_data),
                **data.cancel_kwargs(),
            )
        return Response(OrderCancelQuoteSerializer(quote).data)


class ChannelOrderCancelQuoteView(ChannelScopedMixin, OrderCancelQuoteView):
    def order_channel_id(self) -> int | None:
        return self.channel_id


REQUEST_ERRORS = {
    400: OpenApiResponse(description="Invalid input or a refused rule; the body carries a `code`."),
    403: OpenApiResponse(description="Not linked to this channel (or a staff-only action)."),
    404: OpenApiResponse(description="No such request in this channel."),
}


@extend_schema_view(
    list=extend_schema(responses={200: CancellationRequestSerializer(many=True)}),
    create=extend_schema(
        request=CancellationRequestInputSerializer, responses={201: CancellationRequestSerializer, **REQUEST_ERRORS}
    ),
    retrieve=extend_schema(responses={200: CancellationRequestSerializer, 404: REQUEST_ERRORS[404]}),
    update=extend_schema(
        request=CancellationRequestInputSerializer, responses={200: CancellationRequestSerializer, **REQUEST_ERRORS}
    ),
    partial_update=extend_schema(
        request=CancellationRequestInputSerializer, responses={200: CancellationRequestSerializer, **REQUEST_ERRORS}
    ),
    destroy=extend_schema(responses={204: None, **REQUEST_ERRORS}),
)
@extend_schema(tags=["cancellation requests"])
class CancellationRequestViewSet(ChannelScopedMixin, viewsets.ModelViewSet):
    """A sales channel's cancellation and return requests; the back office rejects or approves them."""

    serializer_class = CancellationRequestSerializer
    filterset_class = CancellationRequestFilter

    def get_queryset(self):
        if self.action in ("list", "detailed_list"):
            # The page is chosen on the requests' ids alone (a narrow query the planner serves from the filters'
            # indexes), then its rows are read by id: see list() and detailed_list().
            return selectors.cancellation_request_ids(channel_id=self.channel_id)
        detailed = self.action == "detailed"
        return selectors.cancellation_request_list(channel_id=self.channel_id, detailed=detailed)

    def get_permissions(self):
        if self.action == "approve":
            return [IsAuthenticated(), HasChannelAccess(), IsStaff()]
        return super().get_permissions()

    def _input(self, *, partial: bool) -> services.RequestInput:
        data = CancellationRequestInputSerializer(data=self.request.data, partial=partial)
        data.fields["order_item"].queryset = OrderItem.objects.filter(order__channel_id=self.channel_id)
        data.is_valid(raise_exception=True)
        return services.RequestInput(**data.validated_data)

    def _respond(self, request_id: int, *, status_code: int = 200, serializer=CancellationRequestSerializer):
        return Response(serializer(self.get_queryset().get(pk=request_id)).data, status=status_code)

    def create(self, request, *args, **kwargs):
        created = services.cancellation_request_create(
            channel=self.channel, fields=self._input(partial=False), actor=request.user
        )
        return self._respond(created.pk, status_code=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        instance = self.get_object()
        services.cancellation_request_update(
            channel=self.channel,
            request_id=instance.pk,
            changes=self._input(partial=kwargs.get("partial", False)),
            actor=request.user,
        )
        return self._respond(instance.pk)

    def destroy(self, request, *args, **kwargs):
        services.cancellation_request_delete(request_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: CancellationRequestSerializer, **REQUEST_ERRORS})
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        rejected = services.cancellation_request_reject(request_id=self.get_object().pk, actor=request.user)
        return self._respond(rejected.pk)

    @extend_schema(
        request=CancellationRequestApproveInputSerializer,
        responses={200: CancellationRequestSerializer, **REQUEST_ERRORS},
        description="Staff only: runs the order cancellation for the request's item and quantity.",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        instance = self.get_object()
        # omnisdk posts the JSON `null` for an action without a body
        data = CancellationRequestApproveInputSerializer(data=request.data if request.data is not None else {})
        data.is_valid(raise_exception=True)
        services.cancellation_request_approve(
            request_id=instance.pk, actor=request.user, forced_refund_amount=data.validated_data["forced_refund_amount"]
        )
        return self._respond(instance.pk)

    def _page_ids(self) -> list[int]:
        """The ids of the page the request asks for, chosen on the narrow query (see get_queryset)."""
        self.paginator.read_rows = ids_of
        return self.paginate_queryset(self.filter_queryset(self.get_queryset()))

    def list(self, request, *args, **kwargs):
        # A request deleted between the two reads is left out, as the deep pages' two reads leave it out.
        rows = selectors.cancellation_requests_by_id(channel_id=self.channel_id, ids=self._page_ids())
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    @extend_schema(responses={200: CancellationRequestDetailedSerializer})
    @action(detail=True, methods=["get"], url_path="detailed", url_name="detailed")
    def detailed(self, request, *args, **kwargs):
        (row,) = selectors.with_channel([self.get_object()], self.channel)
        return Response(CancellationRequestDetailedSerializer(row).data)

    @extend_schema(responses={200: CancellationRequestDetailedSerializer(many=True)})
    @action(detail=False, methods=["get"], url_path="detailed", url_name="detailed-list")
    def detailed_list(self, request, *args, **kwargs):
        data = cancellation_request_detailed_data(self._page_ids(), channel=self.channel)
        return self.get_paginated_response(data)

    @extend_schema(
        filters=False,
        responses={200: CancellationRequestSerializer(many=True)},
        description=(
            "The channel's requests it has not received in their current version: never sent, offered again, or "
            "changed since (`modified_date` later than the `version_date` of the request's integration action). "
            "Oldest first. Committing a batch request that lists them marks them received."
        ),
    )
    @action(detail=False, methods=["get"], url_path="updates", url_name="updates")
    def updates(self, request, *args, **kwargs):
        page = self.paginate_queryset(selectors.cancellation_request_updates_list(channel_id=self.channel_id))
        return self.get_paginated_response(CancellationRequestSerializer(page, many=True).data)


@extend_schema(tags=["cancellation plans"])
class CancellationPlanViewSet(RowListMixin, viewsets.ReadOnlyModelViewSet):
    """Every cancellation plan, for the back office; failed ones can be retried."""

    serializer_class = CancellationPlanSerializer
    permission_classes = [IsAuthenticated, IsStaff]
    filterset_class = CancellationPlanFilter

    def get_queryset(self):
        return selectors.cancellation_plan_list()

    @extend_schema(
        request=None,
        responses={
            200: CancellationPlanSerializer,
            400: OpenApiResponse(description="The plan is not failed (`code` plan_not_failed)."),
        },
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, *args, **kwargs):
        plan = services.plan_retry(plan_id=self.get_object().pk, actor=request.user)
        return Response(CancellationPlanSerializer(self.get_queryset().get(pk=plan.pk)).data)


@extend_schema(tags=["cancellation plans"])
class ChannelCancellationPlanViewSet(ChannelScopedMixin, RowListMixin, viewsets.ReadOnlyModelViewSet):
    """A sales channel's own cancellation plans."""

    serializer_class = CancellationPlanSerializer
    filterset_class = CancellationPlanFilter

    def get_queryset(self):
        return selectors.cancellation_plan_list(channel_id=self.channel_id)


class OrderCancellationEligibilityView(APIView):
    """What cancel/ would accept now, item by item: the same rules and the same pricing as the cancel endpoint."""

    permission_classes = [IsAuthenticated, IsStaff]

    def get_orders(self):
        return Order.objects.select_related("channel")

    @extend_schema(
        tags=["order cancellation"],
        responses={
            200: OrderEligibilitySerializer,
            404: OpenApiResponse(description="No such order (or it belongs to another channel)."),
        },
    )
    def get(self, request, pk, **kwargs):
        order = get_object_or_404(self.get_orders(), pk=pk)
        return Response(OrderEligibilitySerializer(selectors.order_cancellation_eligibility(order=order)).data)


class ChannelOrderCancellationEligibilityView(ChannelScopedMixin, OrderCancellationEligibilityView):
    def get_orders(self):
        return Order.objects.select_related("channel").filter(channel_id=self.channel_id)
