from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from cancellations import rules
from cancellations.models import CancellationPlan, CancellationPlanItem, CancellationRequest
from cancellations.pricing import ZERO, LineInput, plan_price
from cancellations.strategies import strategy_for_channel
from channels.models import SyncContentType
from channels.selectors import unsynced
from common.compiled import SENTINEL_CHANNEL, SENTINEL_IDS, CompiledSelect
from common.models import ATTRIBUTE_FIELDS, attribute_fields
from orders.models import Order
from refunds.models import Refund, RefundKind

# Past this many open units an item's refund_by_quantity lists 1..this and the whole open quantity.
REFUND_BY_QUANTITY_MAX_ROWS = 100


def cancellation_request_list(*, channel_id: int, detailed: bool = False) -> QuerySet[CancellationRequest]:
    """A channel's requests, shaped for their serializer: one query a page, whatever its size. The plain shape names
    its item and reason by id and nests only the easy return; the detailed shape nests the item with its order and
    product, the reason and the customer, so only it pays for those joins. The channel, the same for every row, is
    not joined: the caller attaches the one it holds (`with_channel`)."""
    requests = CancellationRequest.objects.filter(channel_id=channel_id)
    if not detailed:
        return requests.select_related("easy_return").defer(*attribute_fields("easy_return"))
    return requests.select_related(
        "reason",
        "easy_return",
        "order_item__product",
        "order_item__order__customer",
    ).defer(
        # what the detailed shape does not show: it shows the item's and the customer's attribute documents and
        # the product's `attributes`
        *attribute_fields("easy_return", "reason"),
        *attribute_fields("order_item__order", fields=(*ATTRIBUTE_FIELDS, "extra_field")),
        *attribute_fields("order_item__product", fields=ATTRIBUTE_FIELDS[1:]),
    )


@cache
def _requests_by_id_select(vendor: str) -> CompiledSelect:
    requests = cancellation_request_list(channel_id=SENTINEL_CHANNEL).filter(pk__in=[SENTINEL_IDS])
    return CompiledSelect.of(requests)


def cancellation_requests_by_id(*, channel_id: int, ids: list[int]) -> list[CancellationRequest]:
    """The channel's requests of these ids, shaped as `cancellation_request_list` shapes them, in this order (an id
    that is not the channel's, or no longer there, left out); the statement is compiled once (a page of a list
    reads its rows by id)."""
    select = _requests_by_id_select(connection.vendor)
    by_id = {request.pk: request for request in map(select.instance, select.rows(channel=channel_id, ids=ids))}
    return [by_id[pk] for pk in ids if pk in by_id]


def cancellation_request_ids(*, channel_id: int) -> QuerySet[CancellationRequest]:
    """A channel's requests with their ids alone: a page of them is chosen without any join but its filters'."""
    return CancellationRequest.objects.filter(channel_id=channel_id).only("pk")


def with_channel(requests, channel):
    """The detailed shape's rows with their orders' channel attached (every row of a channel's list has it)."""
    for request in requests:
        if request.order_item.order.channel_id == channel.pk:
            request.order_item.order.channel = channel
    return requests


def cancellation_request_updates_list(*, channel_id: int) -> QuerySet[CancellationRequest]:
    """The channel's requests it has not received in their current version (see channels.selectors.unsynced),
    oldest first."""
    return unsynced(
        cancellation_request_list(channel_id=channel_id),
        channel_id=channel_id,
        content_type=SyncContentType.CANCELLATION_REQUEST,
    ).order_by("id")


def cancellation_plan_list(*, channel_id: int | None = None) -> QuerySet[CancellationPlan]:
    # The plan serializers show none of the JSON documents of plans and refunds (nor a refund's instructions).
    queryset = CancellationPlan.objects.defer(*attribute_fields()).prefetch_related(
        Prefetch("items", queryset=CancellationPlanItem.objects.order_by("id")),
        Prefetch("refunds", queryset=Refund.objects.defer(*attribute_fields(), "instructions").order_by("id")),
    )
    if channel_id is not None:
        queryset = queryset.filter(channel_id=channel_id)
    return queryset


@dataclass(frozen=True)
class OrderRefunds:
    reserved: Decimal  # everything refunded or on its way back (every refund row of the order, whatever its state)
    cargo_planned: bool  # the shipping fee has a refund already


def order_refunds(*, order_id: int) -> OrderRefunds:
    """What the order's refunds already take, in one query."""
    totals = Refund.objects.filter(order_id=order_id).aggregate(
        reserved=Sum("amount"), cargo=Count("pk", filter=Q(kind=RefundKind.CARGO))
    )
    return OrderRefunds(reserved=totals["reserved"] or ZERO, cargo_planned=bool(totals["cargo"]))


@dataclass(frozen=True)
class ItemEligibility:
    order_item: int
    open_quantity: int
    cancellation_type: str | None
    can_cancel: bool
    iban_required: bool
    refund_by_quantity: dict[str, Decimal]
    refusals: list[dict]


@dataclass(frozen=True)
class OrderEligibility:
    order: int
    cargo_refundable: bool
    cargo_refusals: list[dict]
    items: list[ItemEligibility]


def order_cancellation_eligibility(*, order: Order) -> OrderEligibility:
    """What `cancel/` would accept now, item by item, asked of the same rules and priced by the same functions."""
    items = list(order.items.order_by("id"))
    refunds = order_refunds(order_id=order.pk)
    refundable = order.amount - refunds.reserved
    cargo_refusal = rules.cargo_on_request_refusal(
        order=order,
        strategy=strategy_for_channel(order.channel),
        cargo_already_planned=refunds.cargo_planned,
    )
    return OrderEligibility(
        order=order.pk,
        cargo_refundable=cargo_refusal is None,
        cargo_refusals=[cargo_refusal.as_dict()] if cargo_refusal else [],
        items=[_item_eligibility(order=order, item=item, refundable=refundable) for item in items],
    )


def _item_eligibility(*, order: Order, item, refundable: Decimal) -> ItemEligibility:
    refusal = rules.item_refusal(item=item, quantity=None)
    if rules.item_is_final(item):
        return ItemEligibility(item.pk, 0, None, False, False, {}, [refusal.as_dict()])
    plan_type = rules.cancellation_type_of(item)
    method = rules.refund_method_for(payment_option=order.payment_option, plan_type=plan_type)
    counts = [*range(1, min(item.open_quantity, REFUND_BY_QUANTITY_MAX_ROWS) + 1)]
    if item.open_quantity > REFUND_BY_QUANTITY_MAX_ROWS:
        counts.append(item.open_quantity)
    refund_by_quantity = {}
    for units in counts:
        line = LineInput(item.amount, item.discount_amount, item.quantity, item.cancelled_quantity, units)
        price = plan_price(lines=[line], refundable=refundable, shipping_left=ZERO, refunds_money=method is not None)
        refund_by_quantity[str(units)] = price.items_total
    return ItemEligibility(
        order_item=item.pk,
        open_quantity=item.open_quantity,
        cancellation_type=plan_type,
        can_cancel=refusal is None,
        iban_required=rules.bank_account_required(payment_option=order.payment_option, plan_type=plan_type),
        refund_by_quantity=refund_by_quantity,
        refusals=[refusal.as_dict()] if refusal else [],
    )
