"""What a change made by the cancellations app tells the outside: webhook events carrying the resource as the API
shows it, and the storefront's cancel sync. Collected during the change's transaction and written at its end, in
it, so they commit with the change or not at all.

A channel that no active webhook listens to, and without a storefront, costs no query: both are decided from the
channel row the change already holds (`Channel.webhook_events`, `conf.storefront`)."""

from collections.abc import Callable

from cancellations import selectors
from cancellations.models import CancellationPlan, CancellationPlanType, CancellationRequest
from cancellations.serializers import CancellationPlanSerializer, CancellationRequestSerializer, RefundSerializer
from orders.models import Order
from orders.selectors import order_get
from orders.serializers import OrderDetailSerializer
from refunds.models import Refund
from storefront.services import storefront_sync_record
from webhooks.models import WebhookEventType
from webhooks.services import webhook_events_emit, webhook_wanted


class Notices:
    def __init__(self, channel):
        self.channel = channel
        self._events: list[tuple[str, Callable[[], dict]]] = []
        # A plan's data by id, built once per `send` (a cancel with nothing to pay back reports its plan created and
        # completed: one read of it serves both).
        self._plans: dict[int, dict] = {}

    def _add(self, event_type: str, data: Callable[[], dict]) -> None:
        if webhook_wanted(self.channel, event_type):
            self._events.append((event_type, data))

    def request(self, event_type: str, request: CancellationRequest) -> None:
        self._add(event_type, lambda: CancellationRequestSerializer(request).data)

    def requests_completed(self, request_ids: list[int]) -> None:
        for request_id in request_ids:
            self._add(
                WebhookEventType.REQUEST_COMPLETED,
                lambda request_id=request_id: (
                    CancellationRequestSerializer(
                        CancellationRequest.objects.select_related("easy_return").get(pk=request_id)
                    ).data
                ),
            )

    def plan(self, event_type: str, plan: CancellationPlan) -> None:
        self.plan_by_id(event_type, plan.pk)

    def plan_by_id(self, event_type: str, plan_id: int) -> None:
        self._add(event_type, lambda: self._plan_data(plan_id))

    def _plan_data(self, plan_id: int) -> dict:
        if plan_id not in self._plans:
            plan = selectors.cancellation_plan_list().get(pk=plan_id)
            self._plans[plan_id] = CancellationPlanSerializer(plan).data
        return self._plans[plan_id]

    def refund(self, event_type: str, refund: Refund) -> None:
        self._add(event_type, lambda: RefundSerializer(refund).data)

    def order_cancelled(self, order: Order) -> None:
        self._add(WebhookEventType.ORDER_CANCELLED, lambda: OrderDetailSerializer(order_get(order_id=order.pk)).data)

    def storefront_sync(self, *, order: Order, plan: CancellationPlan, whole_order_cancelled: bool, reason: str):
        """The plan cancelled or returned items: tell the order's storefront, when the channel has one."""
        storefront_sync_record(
            order=order,
            plan_id=plan.pk,
            whole_order_cancelled=whole_order_cancelled,
            is_return=plan.plan_type == CancellationPlanType.REFUND,
            reason=reason,
        )

    def send(self) -> None:
        """Build the events' data now (the resources as they stand at the end of the change) and write them."""
        if self._events:
            webhook_events_emit(channel=self.channel, events=[(kind, data()) for kind, data in self._events])
            self._events = []
            self._plans = {}
