import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.query import MAX_GET_RESULTS
from django.utils import timezone

from channels.models import Channel, SyncContentType
from channels.services import IntegrationActionRecord, integration_actions_record
from common.compiled import SENTINEL_CHANNEL, SENTINEL_ORDER, CompiledSelect
from common.errors import ApplicationError
from orders.models import (
    CANCEL_STATUS_URGENCY,
    FULFILMENT_STATUSES,
    CancelStatus,
    Customer,
    Order,
    OrderEvent,
    OrderEventType,
    OrderItem,
    OrderStatus,
    Product,
)
from orders.money import allocate


def order_event_write(*, order: Order, type: str, actor=None, payload: dict | None = None) -> OrderEvent:
    return OrderEvent.objects.create(order=order, type=type, actor=actor if actor else None, payload=payload or {})


def order_status_from_items(statuses: Iterable[str]) -> str:
    """The order is as far along as its least advanced live item; once every item is final it is cancelled,
    or refunded if any item was refunded."""
    statuses = list(statuses)
    live = [s for s in statuses if not OrderStatus.is_final(s)]
    if live:
        return min(live, key=OrderStatus.rank)
    if OrderStatus.REFUNDED in statuses:
        return OrderStatus.REFUNDED
    return OrderStatus.CANCELLED


def order_cancel_status_from_items(cancel_statuses: Iterable[str | None]) -> str | None:
    present = set(cancel_statuses)
    for candidate in CANCEL_STATUS_URGENCY:
        if candidate in present:
            return candidate
    return None


def order_events_write(events: list[OrderEvent]) -> None:
    """Several audit rows of one change, in one INSERT."""
    OrderEvent.objects.bulk_create(events)


def order_aggregates_refresh(
    *,
    order: Order,
    items: list[OrderItem],
    actor=None,
    also_save: tuple[str, ...] = (),
    events: list[OrderEvent] | None = None,
) -> list[str]:
    """Recompute the order's `status` and `cancel_status` from its items (already locked by the caller), after
    the caller changed some of them.

    The order's `modified_date` moves even when neither field changes: a change of an item is a change of the order
    (the channel's `orders/updates/` feed relies on it). `also_save`: other order fields the caller changed, saved
    in the same UPDATE. `events`: the caller's pending events, which the status change joins (the caller writes
    them); without it the event is written here. Returns the names of the fields that changed.
    """
    changed = []
    status = order_status_from_items(item.status for item in items)
    if status != order.status:
        event = OrderEvent(
            order=order,
            type=OrderEventType.ORDER_STATUS_CHANGED,
            actor=actor,
            payload={"from": order.status, "to": status},
        )
        if events is None:
            event.save()
        else:
            events.append(event)
        order.status = status
        changed.append("status")
    cancel_status = order_cancel_status_from_items(item.cancel_status for item in items)
    if cancel_status != order.cancel_status:
        order.cancel_status = cancel_status
        changed.append("cancel_status")
    order.save(update_fields=[*changed, *also_save, "modified_date"])
    return changed


@cache
def _order_lock_select(vendor: str, with_channel: bool, scoped: bool) -> CompiledSelect:
    """order_lock's SELECT ... FOR UPDATE of the order row (its channel read along, not locked: `of`), as the ORM's
    `get` writes it, compiled once per database vendor and call shape; a queryset built and compiled for every
    locked order is most of the Python time of a refund's execution."""
    orders = Order.objects.select_for_update(of=("self",))
    if with_channel:
        orders = orders.select_related("channel")
    if scoped:
        orders = orders.filter(channel_id=SENTINEL_CHANNEL)
    orders = orders.filter(pk=SENTINEL_ORDER).order_by()
    if connection.features.supports_select_for_update_with_limit:
        orders.query.set_limits(high=MAX_GET_RESULTS)
    return CompiledSelect.of(orders)


@cache
def _items_lock_select(vendor: str) -> CompiledSelect:
    return CompiledSelect.of(OrderItem.objects.select_for_update().filter(order_id=SENTINEL_ORDER).order_by("id"))


def order_lock(
    order_id: int, *, with_channel: bool = False, with_items: bool = True, channel_id: int | None = None
) -> tuple[Order, list[OrderItem]]:
    """Lock the order, then its items (by id), for the rest of the caller's transaction. `channel_id`: the order
    must belong to that channel; another channel's order is Order.DoesNotExist, as an unknown id is.

    Every writer of the service locks in one order: the order, then its items, then what hangs off them
    (cancellation plans, then refunds). Nothing that locks in this order can deadlock with anything else that does.
    The two statements are compiled once (`_order_lock_select`, `_items_lock_select`) and run with a cursor.
    """
    select = _order_lock_select(connection.vendor, with_channel, channel_id is not None)
    rows = select.rows(order=order_id) if channel_id is None else select.rows(channel=channel_id, order=order_id)
    if not rows:
        raise Order.DoesNotExist(f"{Order._meta.object_name} matching query does not exist.")
    order = select.instance(rows[0])
    if not with_items:
        # The order row alone: every writer locks it first, so holding it is enough to read and write the rest.
        return order, []
    items_select = _items_lock_select(connection.vendor)
    items = [items_select.instance(row) for row in items_select.rows(order=order.pk)]
    for item in items:
        item.order = order
    return order, items


def order_items_units_cancel(
    *, order: Order, items: list[OrderItem], units: dict[int, int], final_when_all_units: bool, actor=None
) -> None:
    """A cancellation was decided for `units` ({item id: units}) of the locked items: they count as cancelled, the
    items' cancel_status is `approved`, and with `final_when_all_units` an item with no unit left is `"100"`."""
    now = timezone.now()
    changed = [item for item in items if item.pk in units]
    takes_every_open_unit = all(units[item.pk] == item.open_quantity for item in changed)
    for item in changed:
        item.cancelled_quantity += units[item.pk]
        item.cancel_status = CancelStatus.APPROVED
        if final_when_all_units and item.open_quantity == 0:
            item.status = OrderStatus.CANCELLED
        item.modified_date = now
    if not takes_every_open_unit:
        order_items_save(changed, ["cancelled_quantity", "cancel_status", "status", "modified_date"])
        return
    # Every item gives up all its open units (a whole cancel): the same change for each, in one plain UPDATE rather
    # than a CASE per item and field.
    same_for_each = {"cancelled_quantity": F("quantity"), "cancel_status": CancelStatus.APPROVED, "modified_date": now}
    if final_when_all_units:
        same_for_each["status"] = OrderStatus.CANCELLED
    OrderItem.objects.filter(pk__in=[item.pk for item in changed]).update(**same_for_each)


def order_items_save(items: list[OrderItem], fields: list[str]) -> None:
    """Save `fields` of the (locked) items in one UPDATE, each field a CASE on the item's id: what `bulk_update`
    writes, without the expression objects it builds and compiles for every item and field (most of the Python
    time of a refund that completes its plan)."""
    if not items:
        return
    quote = connection.ops.quote_name
    cases = " ".join(["WHEN %s THEN %s"] * len(items))
    assignments, params = [], []
    for name in fields:
        field = OrderItem._meta.get_field(name)
        assignments.append(f"{quote(field.column)} = CASE {quote('id')} {cases} END")
        for item in items:
            params += [item.pk, field.get_db_prep_save(getattr(item, field.attname), connection)]
    ids = ", ".join(["%s"] * len(items))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(OrderItem._meta.db_table)} SET {', '.join(assignments)} WHERE {quote('id')} IN ({ids})",
            [*params, *(item.pk for item in items)],
        )


def order_refunds_record(
    *,
    order: Order,
    items: list[OrderItem],
    item_refunds: dict[int, Decimal],
    returned: bool,
    refunded: Decimal,
    shipping_refunded: Decimal,
    discount_refunded: Decimal,
    actor=None,
    events: list[OrderEvent] | None = None,
) -> None:
    """Money went back for a decided cancellation: the items of `item_refunds` ({item id: amount}) are confirmed and
    carry their refunds (returned items with no unit left become `"600"`), the order's refund totals grow, and the
    order's status follows its items (one UPDATE of the order). The order is locked by the caller."""
    now = timezone.now()
    changed = [item for item in items if item.pk in item_refunds]
    for item in changed:
        item.cancel_status = CancelStatus.CONFIRMED
        item.refund_amount += item_refunds[item.pk]
        if returned and item.open_quantity == 0:
            item.status = OrderStatus.REFUNDED
        item.modified_date = now
    order_items_save(changed, ["cancel_status", "refund_amount", "status", "modified_date"])
    order.refund_amount += refunded
    order.shipping_refund_amount += shipping_refunded
    order.discount_refund_amount += discount_refunded
    order_aggregates_refresh(
        order=order,
        items=items,
        actor=actor,
        also_save=("refund_amount", "shipping_refund_amount", "discount_refund_amount"),
        events=events,
    )


def order_item_cancel_status_set(*, item: OrderItem, cancel_status: str | None) -> None:
    """A cancellation request was filed, withdrawn or decided for the (locked) item."""
    item.cancel_status = cancel_status
    item.save(update_fields=["cancel_status", "modified_date"])


@dataclass(frozen=True, kw_only=True)
class CustomerData:
    email: str
    first_name: str = ""
    last_name: str = ""
    phone_number: str = ""


@dataclass(frozen=True, kw_only=True)
class ProductData:
    sku: str
    name: str
    ean: str | None = None
    base_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class OrderLine:
    product: ProductData
    quantity: int
    price: Decimal  # the unit price paid
    tax_rate: Decimal
    status: str | None = None  # defaults to "400"
    remote_id: str | None = None  # the line's id in the channel
    extra_field: dict = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class OrderIntake:
    """A placed order as a sales channel hands it over (parsed and checked for form by OrderCreateInputSerializer)."""

    number: str
    date_placed: datetime
    currency: str  # ISO 4217, lowercase
    amount: Decimal
    payment_option: str
    customer: CustomerData
    lines: list[OrderLine]
    shipping_amount: Decimal = Decimal("0.00")
    discount_amount: Decimal = Decimal("0.00")
    payment_reference: str | None = None
    financing_application_id: str | None = None
    remote_id: str | None = None
    extra_field: dict = dataclasses.field(default_factory=dict)


def _customer_upsert(*, channel: Channel, data: CustomerData) -> Customer:
    customer, created = Customer.objects.get_or_create(
        channel=channel,
        email__iexact=data.email,
        defaults={
            "email": data.email,
            "first_name": data.first_name,
            "last_name": data.last_name,
            "phone_number": data.phone_number,
        },
    )
    if not created:
        updates = [
            name
            for name in ("first_name", "last_name", "phone_number")
            if getattr(data, name) and getattr(customer, name) != getattr(data, name)
        ]
        if updates:
            for name in updates:
                setattr(customer, name, getattr(data, name))
            customer.save(update_fields=[*updates, "modified_date"])
    return customer


def _product_upsert(*, data: ProductData) -> Product:
    """Products are shared by every channel and keyed by SKU; a channel fills identifiers that are missing but
    never overwrites what the catalogue already holds."""
    product, created = Product.objects.get_or_create(
        sku=data.sku, defaults={"name": data.name, "ean": data.ean, "base_code": data.base_code}
    )
    if not created:
        updates = [name for name in ("ean", "base_code") if getattr(data, name) and not getattr(product, name)]
        if updates:
            for name in updates:
                setattr(product, name, getattr(data, name))
            product.save(update_fields=[*updates, "modified_date"])
    return product


def _duplicate_number(number: str) -> ApplicationError:
    return ApplicationError(
        f"This channel already has an order numbered {number!r}.", code="duplicate_order_number", field="number"
    )


def order_create(*, channel: Channel, intake: OrderIntake, actor=None) -> Order:
    """Take over an order placed on a sales channel: its amounts must add up, its number be new in the channel."""
    if not channel.is_active:
        raise ApplicationError("This sales channel is not active.", code="channel_inactive")
    lines = intake.lines
    values = [line.price * line.quantity for line in lines]
    subtotal = sum(values, Decimal(0))
    if intake.discount_amount > subtotal:
        raise ApplicationError(
            f"discount_amount {intake.discount_amount} is more than the items' value {subtotal}.",
            code="discount_exceeds_items",
            field="discount_amount",
        )
    expected = subtotal - intake.discount_amount + intake.shipping_amount
    if intake.amount != expected:
        raise ApplicationError(
            f"amount {intake.amount} does not add up: the items' value {subtotal} less discount "
            f"{intake.discount_amount} plus shipping {intake.shipping_amount} is {expected}.",
            code="amounts_do_not_add_up",
            field="amount",
        )
    shares = allocate(intake.discount_amount, values)
    statuses = [line.status or OrderStatus.APPROVED for line in lines]
    try:
        with transaction.atomic():
            if Order.objects.filter(channel=channel, number=intake.number).exists():
                raise _duplicate_number(intake.number)
            order = Order.objects.create(
                channel=channel,
                customer=_customer_upsert(channel=channel, data=intake.customer),
                number=intake.number,
                remote_id=intake.remote_id,
                date_placed=intake.date_placed,
                status=order_status_from_items(statuses),
                currency=intake.currency,
                amount=intake.amount,
                discount_amount=intake.discount_amount,
                shipping_amount=intake.shipping_amount,
                payment_option=intake.payment_option,
                payment_reference=intake.payment_reference,
                financing_application_id=intake.financing_application_id,
                extra_field=intake.extra_field,
            )
            items = OrderItem.objects.bulk_create(
                [
                    OrderItem(
                        order=order,
                        product=_product_upsert(data=line.product),
                        quantity=line.quantity,
                        price=line.price,
                        tax_rate=line.tax_rate,
                        status=status,
                        discount_amount=share,
                        amount=value - share,
                        extra_field=line.extra_field,
                    )
                    for line, status, value, share in zip(lines, statuses, values, shares, strict=True)
                ]
            )
            order_event_write(
                order=order,
                type=OrderEventType.ORDER_CREATED,
                actor=actor,
                payload={"number": order.number, "amount": str(order.amount), "items": len(lines)},
            )
            # The channel handed this version over itself: the sync feed offers the order once it changes.
            integration_actions_record(
                channel_id=channel.pk,
                records=[
                    IntegrationActionRecord(SyncContentType.ORDER, order.pk, order.remote_id, order.modified_date),
                    *(
                        IntegrationActionRecord(SyncContentType.ORDER_ITEM, item.pk, line.remote_id, item.modified_date)
                        for item, line in zip(items, lines, strict=True)
                    ),
                ],
            )
    except IntegrityError:
        # Another request created the same number between our check and our insert.
        if Order.objects.filter(channel=channel, number=intake.number).exists():
            raise _duplicate_number(intake.number) from None
        raise
    return order


def order_item_status_update(*, item_id: int, status: str, actor=None) -> OrderItem:
    """Fulfilment moves an item forward; cancelled and refunded are reached only through a cancellation."""
    if status not in FULFILMENT_STATUSES:
        raise ApplicationError(
            f'Status "{status}" is reached only through a cancellation or return.',
            code="status_not_allowed",
            field="status",
        )
    order_id = OrderItem.objects.values_list("order_id", flat=True).get(pk=item_id)
    with transaction.atomic():
        order, items = order_lock(order_id)
        item = next(i for i in items if i.pk == item_id)
        if item.status == status:
            return item
        if OrderStatus.is_final(item.status):
            raise ApplicationError(
                f'The item is final ("{item.status}") and cannot change status.',
                code="item_final",
                field="status",
            )
        if OrderStatus.rank(status) < OrderStatus.rank(item.status):
            raise ApplicationError(
                f'Status moves forward only: "{item.status}" cannot go back to "{status}".',
                code="status_backwards",
                field="status",
            )
        previous = item.status
        item.status = status
        item.save(update_fields=["status", "modified_date"])
        order_event_write(
            order=order,
            type=OrderEventType.ITEM_STATUS_CHANGED,
            actor=actor,
            payload={"order_item": item.pk, "from": previous, "to": status},
        )
        order_aggregates_refresh(order=order, items=items, actor=actor)
    return item
