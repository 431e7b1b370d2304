from functools import cache

from django.db import connection
from django.db.models import Prefetch, QuerySet

from channels.models import SyncContentType
from channels.selectors import unsynced
from common.compiled import SENTINEL_ORDER, CompiledSelect
from common.models import attribute_fields
from orders.models import Order, OrderItem


def order_list(*, channel_id: int | None = None) -> QuerySet[Order]:
    """Orders shaped for the detail serializer: the same number of queries for one order or a hundred."""
    # The order serializers show none of the rows' attribute documents (only `extra_field`).
    items = OrderItem.objects.select_related("product").defer(*attribute_fields("", "product")).order_by("id")
    queryset = (
        Order.objects.select_related("customer")
        .defer(*attribute_fields("", "customer"))
        .prefetch_related(Prefetch("items", queryset=items))
    )
    if channel_id is not None:
        queryset = queryset.filter(channel_id=channel_id)
    return queryset


def order_updates_list(*, channel_id: int) -> QuerySet[Order]:
    """The channel's orders it has not received in their current version (see channels.selectors.unsynced), oldest
    first; shaped like `order_list`."""
    return unsynced(
        order_list(channel_id=channel_id), channel_id=channel_id, content_type=SyncContentType.ORDER
    ).order_by("id")


@cache
def _order_get_select(vendor: str) -> CompiledSelect:
    """order_get's SELECT, compiled once per database vendor (building and compiling it was most of its time)."""
    items = (
        OrderItem.objects.select_related("product", "order__customer")
        .defer(*attribute_fields("", "product", "order", "order__customer"))
        .filter(order_id=SENTINEL_ORDER)
        .order_by("id")
    )
    return CompiledSelect.of(items)


def order_get(*, order_id: int) -> Order:
    """One order shaped as `order_list` shapes its rows, in one query: its items, each with its product, and the
    order with its customer joined, the order taken from the first (an order without items is read as `order_list`
    reads it)."""
    select = _order_get_select(connection.vendor)
    rows = select.rows(order=order_id)
    if not rows:
        return order_list().get(pk=order_id)
    items = [select.instance(row) for row in rows]
    order = items[0].order
    for item in items:
        item.order = order
    # What prefetch_related("items") would leave: `order.items.all()` answers from it.
    order._prefetched_objects_cache = {"items": items}
    return order


def order_item_list(*, channel_id: int | None = None) -> QuerySet[OrderItem]:
    queryset = OrderItem.objects.select_related("product").order_by("id")
    if channel_id is not None:
        queryset = queryset.filter(order__channel_id=channel_id)
    return queryset
