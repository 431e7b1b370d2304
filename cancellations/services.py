"""Every write of the cancellations app. `order_cancel` is the one place the cancellation rules live: the cancel
endpoints and the approval of cancellation requests both go through it."""

import dataclasses
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import cache

from django.db import connection, transaction
from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, Sum
from django.utils import timezone
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from cancellations import rules, selectors
from cancellations.models import (
    CancellationPlan,
    CancellationPlanItem,
    CancellationPlanStatus,
    CancellationPlanType,
    CancellationQuote,
    CancellationReason,
    CancellationRequest,
    CancellationRequestStatus,
    EasyReturn,
    EasyReturnStatus,
)
from cancellations.notices import Notices
from cancellations.pricing import LineInput, plan_price
from cancellations.refund_instructions import refund_instructions
from cancellations.strategies import strategy_for_channel
from common.compiled import SENTINEL_ORDER, SENTINEL_PLAN, CompiledSelect, prepared_cursor
from common.errors import ApplicationError, ConflictError
from common.unset import UNSET, Unset
from orders.models import CancelStatus, Order, OrderEvent, OrderEventType, OrderItem, OrderStatus, Product
from orders.money import CENT
from orders.services import (
    order_aggregates_refresh,
    order_event_write,
    order_events_write,
    order_item_cancel_status_set,
    order_items_units_cancel,
    order_lock,
    order_refunds_record,
)
from refunds.models import Refund, RefundKind, RefundMethod, RefundStatus
from refunds.services import NewRefund, refund_enqueue, refund_retry_failed, refunds_create
from webhooks.models import WebhookEventType

ZERO = Decimal("0.00")
# No 0/O or 1/I: the code is read out over the phone and typed at a carrier's counter.
EASY_RETURN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def cancellation_reason_deactivate(*, reason: CancellationReason) -> CancellationReason:
    """Reasons are never deleted: requests and plans keep pointing at them."""
    if reason.is_active:
        reason.is_active = False
        reason.save(update_fields=["is_active", "modified_date"])
    return reason


def iban_normalize(value: str | None, *, field: str = "iban") -> str:
    """The IBAN in compact form, or ApplicationError `iban_invalid` when its checksum or format is wrong."""
    try:
        return IBAN(value or "").compact
    except (SchwiftyException, ValueError):
        raise ApplicationError(
            "The IBAN is not valid (its country format or checksum is wrong).", code="iban_invalid", field=field
        ) from None


@dataclass
class _Line:
    item: OrderItem
    quantity: int
    reason: CancellationReason | None
    refund_amount: Decimal = ZERO
    discount_refund_amount: Decimal = ZERO


def _check_shape(*, is_all: bool, item_ids: list[int], is_cargo_refund: bool) -> None:
    if is_all and item_ids:
        raise ApplicationError("Send either is_all or cancel_items, not both.", code="is_all_with_cancel_items")
    if is_cargo_refund and (is_all or item_ids):
        raise ApplicationError(
            "is_cargo_refund refunds the shipping fee alone; send it without is_all and cancel_items.",
            code="cargo_refund_with_items",
        )
    if not (is_all or item_ids or is_cargo_refund):
        raise ApplicationError(
            "Nothing to cancel: send is_all, cancel_items or is_cargo_refund.", code="nothing_to_cancel"
        )


def _bank_account(*, order: Order, item_ids: list[int], ibans: dict, holder_names: dict) -> tuple[str, str]:
    """The one account a bank-transfer refund goes to: an IBAN and a holder name for each item, all the same."""
    if not item_ids:
        # the shipping fee alone: the account given with the call, else the one the order's items went to
        given = [(i, h) for i, h in zip(ibans.values(), holder_names.values(), strict=False) if i and h]
        if given:
            return iban_normalize(given[0][0], field="ibans"), given[0][1].strip()
        previous = (
            Refund.objects.filter(plan__order=order, method=RefundMethod.FUNDS_TRANSFER)
            .exclude(iban="")
            .order_by("-id")
            .values_list("iban", "holder_name")
            .first()
        )
        if previous:
            return previous
        raise ApplicationError(
            "A bank-transfer refund needs an IBAN and a holder name.", code="iban_required", field="ibans"
        )
    accounts = set()
    for item_id in item_ids:
        iban, holder = ibans.get(item_id), (holder_names.get(item_id) or "").strip()
        if not iban:
            raise ApplicationError(
                f"Item {item_id} is refunded by bank transfer and needs an IBAN.",
                code="iban_required",
                field="ibans",
                extra={"item": item_id},
            )
        if not holder:
            raise ApplicationError(
                f"Item {item_id} is refunded by bank transfer and needs the account holder's name.",
                code="holder_name_required",
                field="holder_names",
                extra={"item": item_id},
            )
        accounts.add((iban_normalize(iban, field="ibans"), holder))
    if len(accounts) > 1:
        raise ApplicationError(
            "One cancellation pays one bank account: send the same IBAN and holder name for every item.",
            code="ibans_differ",
            field="ibans",
        )
    return accounts.pop()


def _products_of(lines: list[_Line]) -> list[Product]:
    by_id = Product.objects.in_bulk({line.item.product_id for line in lines})
    return [by_id[line.item.product_id] for line in lines]


def order_cancel(
    *,
    order_id: int,
    channel_id: int | None = None,
    actor=None,
    item_ids: list[int] | tuple = (),
    quantities: dict[int, int] | None = None,
    is_all: bool = False,
    is_cargo_refund: bool = False,
    reasons: dict[int, int] | None = None,
    forced_refund_amount: Decimal | None = None,
    refund_invoice_number: str | None = None,
    ibans: dict[int, str] | None = None,
    holder_names: dict[int, str] | None = None,
    refund_as_loyalty_money: bool = False,
    request: CancellationRequest | None = None,
) -> CancellationPlan:
    """Cancel (not shipped) or return (shipped) items of an order, or refund its shipping fee alone.

    In one transaction: lock the order and its items, check every rule against the locked state, write the plan,
    its items and its refunds, move the statuses, write the event, and queue the refunds for after the commit.
    Every refusal is an ApplicationError with a stable code, raised before anything is written. `channel_id`: the
    order must belong to that channel (Order.DoesNotExist otherwise, as for an unknown order).
    """
    item_ids = list(item_ids)
    quantities = quantities or {}
    reasons = reasons or {}
    ibans = ibans or {}
    holder_names = holder_names or {}
    _check_shape(is_all=is_all, item_ids=item_ids, is_cargo_refund=is_cargo_refund)
    forced = forced_refund_amount
    if len(set(item_ids)) != len(item_ids):
        raise ApplicationError("cancel_items lists an item twice.", code="duplicate_items", field="cancel_items")

    with transaction.atomic():
        order, items = order_lock(order_id, with_channel=True, channel_id=channel_id)
        status_before = order.status
        by_id = {item.pk: item for item in items}
        strategy = strategy_for_channel(order.channel)

        if is_all:
            item_ids = [item.pk for item in items if not OrderStatus.is_final(item.status) and item.open_quantity]
            if not item_ids:
                raise ApplicationError("Every item of this order is already cancelled.", code="nothing_to_cancel")
        unknown = [item_id for item_id in item_ids if item_id not in by_id]
        if unknown:
            raise ApplicationError(
                f"Item(s) {unknown} do not belong to order {order.pk}.",
                code="item_not_in_order",
                field="cancel_items",
                extra={"items": unknown},
            )
        chosen = [by_id[item_id] for item_id in item_ids]
        for item in chosen:
            approving = request is not None and request.order_item_id == item.pk
            rules.refuse(
                rules.item_refusal(
                    item=item, quantity=quantities.get(item.pk), for_request_id=request.pk if approving else None
                )
            )
        rules.refuse(rules.mixed_types_refusal(chosen))
        if chosen:
            plan_type = rules.cancellation_type_of(chosen[0])
        else:
            any_shipped = any(OrderStatus.is_shipped(i.status) or i.status == OrderStatus.REFUNDED for i in items)
            plan_type = CancellationPlanType.REFUND if any_shipped else CancellationPlanType.CANCEL

        reason_by_id = CancellationReason.objects.in_bulk(set(reasons.values()))
        for item in chosen:
            reason_id = reasons.get(item.pk)
            rules.refuse(
                rules.reason_refusal(
                    reason=reason_by_id.get(reason_id),
                    reason_id=reason_id,
                    cancellation_type=plan_type,
                    item_id=item.pk,
                    field="reasons",
                )
            )
        lines = [
            _Line(
                item=item, quantity=quantities.get(item.pk, item.open_quantity), reason=reason_by_id[reasons[item.pk]]
            )
            for item in chosen
        ]

        already = selectors.order_refunds(order_id=order.pk)
        cargo_planned = already.cargo_planned
        if is_cargo_refund:
            rules.refuse(
                rules.cargo_on_request_refusal(order=order, strategy=strategy, cargo_already_planned=cargo_planned)
            )
            refund_cargo = True
        else:
            refund_cargo = rules.cargo_granted_with_items(
                order=order,
                items=items,
                units={line.item.pk: line.quantity for line in lines},
                plan_type=plan_type,
                strategy=strategy,
                cargo_already_planned=cargo_planned,
            )

        method = rules.refund_method_for(
            payment_option=order.payment_option, plan_type=plan_type, as_loyalty_money=refund_as_loyalty_money
        )
        refundable = order.amount - already.reserved
        if forced is not None and forced > refundable:
            raise ApplicationError(
                f"forced_refund_amount {forced} is more than the {refundable} still refundable on this order.",
                code="forced_refund_amount_too_high",
                field="forced_refund_amount",
            )
        price = plan_price(
            lines=[
                LineInput(
                    amount=line.item.amount,
                    discount_amount=line.item.discount_amount,
                    quantity=line.item.quantity,
                    cancelled_before=line.item.cancelled_quantity,
                    units=line.quantity,
                )
                for line in lines
            ],
            refundable=refundable,
            shipping_left=order.shipping_amount - order.shipping_refund_amount,
            forced=forced,
            refunds_money=method is not None,  # None: nothing was collected, so nothing goes back
            cargo_granted=refund_cargo,
        )
        for line, line_price in zip(lines, price.lines, strict=True):
            line.refund_amount = line_price.refund_amount
            line.discount_refund_amount = line_price.discount_refund_amount
        items_total, cargo_total = price.items_total, price.cargo_total

        iban = holder = ""
        if method == RefundMethod.FUNDS_TRANSFER and (items_total > 0 or cargo_total > 0):
            iban, holder = _bank_account(order=order, item_ids=item_ids, ibans=ibans, holder_names=holder_names)

        # The writes
        plan = CancellationPlan.objects.create(
            order=order,
            channel_id=order.channel_id,
            plan_type=plan_type,
            refund_invoice_number=refund_invoice_number or None,
            forced_refund_amount=forced,
            is_cargo_refund=is_cargo_refund,
            created_by=actor,
        )
        CancellationPlanItem.objects.bulk_create(
            [
                CancellationPlanItem(
                    plan=plan,
                    order_item=line.item,
                    reason=line.reason,
                    quantity=line.quantity,
                    refund_amount=line.refund_amount,
                    discount_refund_amount=line.discount_refund_amount,
                )
                for line in lines
            ]
        )
        amounts = {RefundKind.ITEMS: items_total, RefundKind.CARGO: cargo_total}
        products = _products_of(lines) if method == RefundMethod.FINANCING else []
        units = {line.item.pk: line.quantity for line in lines}
        takes_rest = bool(lines) and all(
            item.open_quantity == units.get(item.pk, 0) for item in items if item.open_quantity
        )
        new_refunds = [
            NewRefund(
                kind=kind,
                method=method,
                amount=amount,
                instructions=refund_instructions(
                    method=method,
                    kind=kind,
                    plan_type=plan_type,
                    products=products,
                    takes_rest_of_order=takes_rest,
                    has_items_refund=amounts[RefundKind.ITEMS] > 0,
                ),
            )
            for kind, amount in amounts.items()
            if method is not None and amount > 0
        ]
        refunds = refunds_create(
            order=order, plan=plan, refunds=new_refunds, currency=order.currency, iban=iban, holder_name=holder
        )
        events = []
        if request is not None:
            request.status = CancellationRequestStatus.APPROVED
            request.cancellation_plan = plan
            request.save(update_fields=["status", "cancellation_plan", "modified_date"])
            events.append(
                OrderEvent(
                    order=order,
                    type=OrderEventType.REQUEST_APPROVED,
                    actor=actor,
                    payload={"cancellation_request": request.pk, "plan": plan.pk},
                )
            )
        order_items_units_cancel(
            order=order,
            items=items,
            units=units,
            final_when_all_units=plan_type == CancellationPlanType.CANCEL,
            actor=actor,
        )
        events.append(
            OrderEvent(
                order=order,
                type=OrderEventType.CANCELLATION_PLANNED,
                actor=actor,
                payload={
                    "plan": plan.pk,
                    "plan_type": plan_type,
                    "items": [{"order_item": line.item.pk, "quantity": line.quantity} for line in lines],
                    "refunds": [
                        {"id": r.pk, "kind": r.kind, "method": r.method, "amount": str(r.amount)} for r in refunds
                    ],
                    "forced_refund_amount": str(forced) if forced is not None else None,
                },
            )
        )
        notices = Notices(order.channel)
        if request is not None:
            notices.request(WebhookEventType.REQUEST_APPROVED, request)
        notices.plan(WebhookEventType.PLAN_CREATED, plan)
        if refunds:
            order_aggregates_refresh(order=order, items=items, actor=actor, events=events)
            refund_enqueue(refund_ids=[refund.pk for refund in refunds])
        else:
            # Nothing to pay back (pay on delivery, or nothing left): the plan is done at once.
            events += _plan_complete(plan=plan, order=order, items=items, refunds=[], actor=actor, notices=notices)
        order_events_write(events)
        whole_order_cancelled = order.status == OrderStatus.CANCELLED and status_before != OrderStatus.CANCELLED
        if whole_order_cancelled:
            notices.order_cancelled(order)
        if lines:
            notices.storefront_sync(
                order=order, plan=plan, whole_order_cancelled=whole_order_cancelled, reason=lines[-1].reason.subject
            )
        notices.send()
    return plan


QUOTE_LIFETIME = timedelta(minutes=15)
# Parts of a cancel body that do not change the plan it makes.
QUOTE_NEUTRAL_FIELDS = ("quote_id", "return_details", "order")


class _DryRun(Exception):
    """Raised inside a savepoint to undo a plan that was made only to be priced."""


def cancel_body_fingerprint(body: dict) -> str:
    """SHA-256 of a validated cancel body, over what decides the plan; the same body always gives the same value."""
    relevant = {key: value for key, value in body.items() if key not in QUOTE_NEUTRAL_FIELDS}
    canonical = json.dumps(relevant, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def plan_summary(plan: CancellationPlan) -> dict:
    """A plan as a quote shows it: what it cancels, and what goes back, by which rail."""
    refunds = [
        {"kind": refund.kind, "method": refund.method, "amount": str(refund.amount)}
        for refund in plan.refunds.order_by("id")
    ]
    return {
        "plan_type": plan.plan_type,
        "items": [
            {"order_item": item.order_item_id, "quantity": item.quantity, "refund_amount": str(item.refund_amount)}
            for item in plan.items.order_by("order_item_id")
        ],
        "refunds": refunds,
        "total": str(sum((Decimal(refund["amount"]) for refund in refunds), ZERO)),
    }


def cancellation_quote_create(
    *, order_id: int, channel_id: int | None = None, actor=None, body_fingerprint: str, **cancel
) -> CancellationQuote:
    """Price what `order_cancel(**cancel)` would do now, write nothing but the quote. Refused exactly as the
    cancellation would be. The order stays locked from pricing to the quote's row, so the quote's `order_version`
    is the state it priced. `channel_id` as for `order_cancel`."""
    with transaction.atomic():
        order, _ = order_lock(order_id, channel_id=channel_id)
        try:
            with transaction.atomic():
                summary = plan_summary(order_cancel(order_id=order_id, actor=actor, **cancel))
                raise _DryRun
        except _DryRun:
            pass
        return CancellationQuote.objects.create(
            order=order,
            created_by=actor,
            body_fingerprint=body_fingerprint,
            order_version=order.modified_date,
            quote=summary,
            expires_at=timezone.now() + QUOTE_LIFETIME,
        )


def cancellation_quote_commit(
    *, quote_id, order_id: int, channel_id: int | None = None, actor=None, body_fingerprint: str, **cancel
) -> CancellationPlan:
    """Make exactly the quoted plan, or nothing: 400 `quote_mismatch` for another body, 400 `quote_expired` past its
    lifetime, 409 `quote_stale` when the order changed since it was priced (or the quote was already used).
    `channel_id` as for `order_cancel`."""
    with transaction.atomic():
        order, _ = order_lock(order_id, channel_id=channel_id)
        quote = CancellationQuote.objects.select_for_update().filter(pk=quote_id, order_id=order_id).first()
        if quote is None:
            raise ApplicationError("There is no such quote for this order.", code="quote_not_found", field="quote_id")
        if quote.body_fingerprint != body_fingerprint:
            raise ApplicationError(
                "The body differs from the one the quote was made for.", code="quote_mismatch", field="quote_id"
            )
        if quote.expires_at <= timezone.now():
            raise ApplicationError("The quote has expired; ask for a new one.", code="quote_expired", field="quote_id")
        stale = ConflictError(
            "The order changed since the quote was made; ask for a new one.", code="quote_stale", field="quote_id"
        )
        if quote.plan_id is not None or order.modified_date != quote.order_version:
            raise stale
        plan = order_cancel(order_id=order_id, actor=actor, **cancel)
        if plan_summary(plan) != quote.quote:
            raise stale  # rolls the plan back: the quote is honoured exactly or not at all
        quote.plan = plan
        quote.save(update_fields=["plan"])
    return plan


def _plan_complete(
    *,
    plan: CancellationPlan,
    order: Order,
    items: list[OrderItem],
    refunds: list[Refund],
    notices: Notices,
    actor=None,
) -> list[OrderEvent]:
    """Every refund of the plan succeeded: confirm its items and grow the order's refund totals. Returns the events
    to write (the caller writes them with its own, in one INSERT); the webhook events join `notices`."""
    plan_items = list(plan.items.all())
    plan.status = CancellationPlanStatus.COMPLETED
    plan.save(update_fields=["status", "modified_date"])
    return _plan_completed(
        plan_id=plan.pk,
        order=order,
        items=items,
        item_refunds={plan_item.order_item_id: plan_item.refund_amount for plan_item in plan_items},
        returned=plan.plan_type == CancellationPlanType.REFUND,
        refunded=sum((refund.amount for refund in refunds), ZERO),
        shipping_refunded=sum((r.amount for r in refunds if r.kind == RefundKind.CARGO), ZERO),
        discount_refunded=sum((pi.discount_refund_amount for pi in plan_items), ZERO),
        request_ids=_plan_requests_complete(plan.pk),
        notices=notices,
        actor=actor,
    )


def _plan_requests_complete(plan_id: int) -> list[int]:
    """The completed plan's approved request (a plan comes from at most one) is completed too; returns its id, if
    any. The requests' modified_date moves with their status: the channel's `cancellation_requests/updates/` feed
    compares it."""
    approved = CancellationRequest.objects.filter(
        cancellation_plan_id=plan_id, status=CancellationRequestStatus.APPROVED
    )
    request_ids = list(approved.values_list("pk", flat=True))
    if request_ids:
        approved.update(status=CancellationRequestStatus.COMPLETED, modified_date=timezone.now())
    return request_ids


def _plan_completed(
    *,
    plan_id: int,
    order: Order,
    items: list[OrderItem],
    request_ids: list[int],
    notices: Notices,
    actor=None,
    **money,
) -> list[OrderEvent]:
    """The plan and its requests (`request_ids`) are marked completed: its items and the order record the money
    (`money`: the amounts `order_refunds_record` takes). Returns the events to write; the webhook events join
    `notices`."""
    events = []
    order_refunds_record(order=order, items=items, actor=actor, events=events, **money)
    notices.plan_by_id(WebhookEventType.PLAN_COMPLETED, plan_id)
    events.append(
        OrderEvent(
            order=order,
            type=OrderEventType.CANCELLATION_COMPLETED,
            actor=actor,
            payload={"plan": plan_id, "refunded": str(money["refunded"])},
        )
    )
    if request_ids:
        notices.requests_completed(request_ids)
        events += [
            OrderEvent(
                order=order, type=OrderEventType.REQUEST_COMPLETED, actor=actor, payload={"cancellation_request": pk}
            )
            for pk in request_ids
        ]
    return events


@dataclass(frozen=True)
class _PlanCompletion:
    """What the refund that completes a plan learns from completing it: the requests completed with it, and what
    the order records (the plan's type, its refunds' totals, in cents as the rows hold them: a sum comes back from
    SQLite without its places)."""

    request_ids: list[int]
    plan_type: str
    refunded: Decimal
    shipping_refunded: Decimal


@cache
def _plan_completion_statement() -> str:
    plans = CancellationPlan._meta.db_table
    requests = CancellationRequest._meta.db_table
    refunds = Refund._meta.db_table
    return (
        f'WITH plan AS (UPDATE "{plans}" SET "status" = %(completed)s, "modified_date" = %(now)s '
        'WHERE "id" = %(plan)s AND "status" <> %(completed)s '
        f'AND NOT EXISTS (SELECT 1 FROM "{refunds}" WHERE "plan_id" = %(plan)s AND "status" <> %(succeeded)s) '
        'RETURNING "id", "plan_type"), '
        f'request AS (UPDATE "{requests}" SET "status" = %(completed)s, "modified_date" = %(now)s '
        'WHERE "cancellation_plan_id" IN (SELECT "id" FROM plan) AND "status" = %(approved)s RETURNING "id") '
        'SELECT ARRAY(SELECT "id" FROM request ORDER BY "id"), plan."plan_type", '
        f'(SELECT COALESCE(SUM("amount"), 0) FROM "{refunds}" WHERE "plan_id" = plan."id"), '
        f'(SELECT COALESCE(SUM("amount"), 0) FROM "{refunds}" WHERE "plan_id" = plan."id" AND "kind" = %(cargo)s) '
        "FROM plan"
    )


def _plan_complete_if_settled(plan_id: int) -> _PlanCompletion | None:
    """Mark the plan completed if no refund of it is left unsucceeded (the caller's success is written already), and
    its approved request with it. None when the plan does not complete now (a refund is still open, or the plan was
    completed before). One statement on PostgreSQL; elsewhere the plan's conditional UPDATE, its request, then a
    read of the plan's type and refund totals."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        with prepared_cursor() as cursor:
            cursor.execute(
                _plan_completion_statement(),
                {
                    "plan": plan_id,
                    "now": now,
                    "completed": CancellationPlanStatus.COMPLETED.value,
                    "succeeded": RefundStatus.SUCCEEDED.value,
                    "approved": CancellationRequestStatus.APPROVED.value,
                    "cargo": RefundKind.CARGO.value,
                },
            )
            row = cursor.fetchone()
        if row is None:
            return None
        request_ids, plan_type, refunded, shipping_refunded = row
        return _PlanCompletion(
            request_ids=request_ids,
            plan_type=plan_type,
            refunded=refunded.quantize(CENT),
            shipping_refunded=shipping_refunded.quantize(CENT),
        )
    unsucceeded = Refund.objects.filter(plan_id=OuterRef("pk")).exclude(status=RefundStatus.SUCCEEDED)
    completed = (
        CancellationPlan.objects.filter(pk=plan_id)
        .exclude(status=CancellationPlanStatus.COMPLETED)
        .exclude(Exists(unsucceeded))
        .update(status=CancellationPlanStatus.COMPLETED, modified_date=now)
    )
    if not completed:
        return None
    request_ids = _plan_requests_complete(plan_id)
    plan = CancellationPlan.objects.annotate(
        refunded=Sum("refunds__amount", default=ZERO),
        shipping_refunded=Sum("refunds__amount", filter=Q(refunds__kind=RefundKind.CARGO), default=ZERO),
    ).get(pk=plan_id)
    return _PlanCompletion(
        request_ids=request_ids,
        plan_type=plan.plan_type,
        refunded=plan.refunded.quantize(CENT),
        shipping_refunded=plan.shipping_refunded.quantize(CENT),
    )


@cache
def _plan_items_select(vendor: str) -> CompiledSelect:
    """The order's items, each with what a plan refunds on it (None when the plan does not hold it), compiled once
    per database vendor: building and compiling it for every completed plan was most of a refund batch's Python."""
    return CompiledSelect.of(
        OrderItem.objects.filter(order_id=SENTINEL_ORDER)
        .annotate(
            in_plan=FilteredRelation("plan_items", condition=Q(plan_items__plan_id=SENTINEL_PLAN)),
            plan_refund=F("in_plan__refund_amount"),
            plan_discount_refund=F("in_plan__discount_refund_amount"),
        )
        .order_by("id")
    )


def _plan_completed_by_refunds(
    *, plan_id: int, completion: _PlanCompletion, order: Order, notices: Notices
) -> list[OrderEvent]:
    """The plan's last refund succeeded and the plan is marked completed: one read of the order's items (all of
    them: the order's status follows them), each with what the plan refunds on it. The order is locked by the
    caller, so the items read now are current."""
    select = _plan_items_select(connection.vendor)
    items = [select.instance(row) for row in select.rows(plan=plan_id, order=order.pk)]
    for item in items:
        item.order = order
    in_plan = [item for item in items if item.plan_refund is not None]
    return _plan_completed(
        plan_id=plan_id,
        order=order,
        items=items,
        item_refunds={item.pk: item.plan_refund for item in in_plan},
        returned=completion.plan_type == CancellationPlanType.REFUND,
        refunded=completion.refunded,
        shipping_refunded=completion.shipping_refunded,
        discount_refunded=sum((item.plan_discount_refund for item in in_plan), ZERO),
        request_ids=completion.request_ids,
        notices=notices,
    )


def _lock_plan(plan_id: int) -> tuple[CancellationPlan, Order, list[OrderItem]]:
    order_id = CancellationPlan.objects.values_list("order_id", flat=True).get(pk=plan_id)
    order, items = order_lock(order_id)
    plan = CancellationPlan.objects.select_for_update().get(pk=plan_id)
    return plan, order, items


class PlanRefundOwner:
    """The cancellation plans own the refunds; registered with `refunds.hooks` at start-up.

    `lock` takes the refund's order row (its channel read along, not locked), before the refund row is written:
    every writer of an order, its items, its plans and its refunds takes that row first, so it serialises them all.
    `settled` completes or fails the refunds' plans under that lock, in the refunds' transaction, and writes the
    events in one INSERT, and the webhook events of the outcomes with them. A plan changes state by a conditional
    UPDATE: it completes when no refund of it is left unsucceeded (these successes are written already), so exactly
    one batch, its last, completes it, and the refunds' rows are not read.
    """

    def lock(self, refund: Refund) -> Order:
        order, _ = order_lock(refund.order_id, with_items=False, with_channel=True)
        return order

    def settled(self, refunds: list[Refund], order: Order) -> None:
        notices = Notices(order.channel)
        events = []
        succeeded_plans, failed_plans = [], []
        for refund in refunds:
            if refund.status == RefundStatus.SUCCEEDED:
                notices.refund(WebhookEventType.REFUND_SUCCEEDED, refund)
                events.append(_refund_event(order, refund, OrderEventType.REFUND_SUCCEEDED, amount=str(refund.amount)))
                plans = succeeded_plans
            else:
                notices.refund(WebhookEventType.REFUND_FAILED, refund)
                events.append(_refund_event(order, refund, OrderEventType.REFUND_FAILED, error=refund.last_error))
                plans = failed_plans
            if refund.plan_id not in plans:
                plans.append(refund.plan_id)
        for plan_id in failed_plans:
            failed = CancellationPlan.objects.filter(pk=plan_id, status=CancellationPlanStatus.WAITING).update(
                status=CancellationPlanStatus.FAILED, modified_date=timezone.now()
            )
            if failed:
                notices.plan_by_id(WebhookEventType.PLAN_FAILED, plan_id)
                events.append(
                    OrderEvent(order=order, type=OrderEventType.CANCELLATION_FAILED, payload={"plan": plan_id})
                )
        for plan_id in succeeded_plans:
            if plan_id in failed_plans:
                continue  # a refund of it failed: it cannot complete now
            completion = _plan_complete_if_settled(plan_id)
            if completion is not None:
                events += _plan_completed_by_refunds(
                    plan_id=plan_id, completion=completion, order=order, notices=notices
                )
        order_events_write(events)
        notices.send()


def _refund_event(order: Order, refund: Refund, type: str, **details) -> OrderEvent:
    payload = {"plan": refund.plan_id, "refund": refund.pk, "kind": refund.kind, **details}
    return OrderEvent(order=order, type=type, payload=payload)


def plan_retry(*, plan_id: int, actor=None) -> CancellationPlan:
    """Queue a failed plan's failed refunds again; the plan waits for them."""
    with transaction.atomic():
        plan, order, _ = _lock_plan(plan_id)
        if plan.status != CancellationPlanStatus.FAILED:
            raise ApplicationError(
                f"Only a failed plan can be retried; this one is {plan.status}.", code="plan_not_failed"
            )
        refund_ids = refund_retry_failed(plan=plan)
        plan.status = CancellationPlanStatus.WAITING
        plan.save(update_fields=["status", "modified_date"])
        order_event_write(
            order=order,
            type=OrderEventType.CANCELLATION_RETRIED,
            actor=actor,
            payload={"plan": plan.pk, "refunds": refund_ids},
        )
    return plan


# Cancellation requests -------------------------------------------------------------------------------------------


def _request_checks(*, channel, item: OrderItem, data: dict, current: CancellationRequest | None) -> dict:
    """Check a request's fields against the locked item; return them normalised. Shared by create and update."""
    order = item.order
    if order.channel_id != channel.pk:
        raise ApplicationError(
            "This order item belongs to another channel's order.", code="item_not_in_channel", field="order_item"
        )
    cancellation_type = data["cancellation_type"]
    own_request = current is not None and current.order_item_id == item.pk
    rules.refuse(
        rules.item_refusal(
            item=item,
            quantity=data.get("quantity"),
            for_request_id=current.pk if own_request else None,
            field="order_item",
        )
    )
    rules.refuse(rules.type_refusal(item=item, cancellation_type=cancellation_type))
    reason = data["reason"]
    rules.refuse(
        rules.reason_refusal(
            reason=reason, reason_id=reason.pk, cancellation_type=cancellation_type, item_id=None, field="reason"
        )
    )
    quantity = data.get("quantity") or item.open_quantity
    iban = data.get("iban") or None
    if iban:
        iban = iban_normalize(iban)
    holder_name = (data.get("holder_name") or "").strip() or None
    needs_account = rules.bank_account_required(
        payment_option=order.payment_option,
        plan_type=cancellation_type,
        as_loyalty_money=data.get("fully_refund_as_loyalty_money", False),
    )
    if needs_account and not iban:
        raise ApplicationError(
            "This refund goes by bank transfer: an IBAN is required.", code="iban_required", field="iban"
        )
    if needs_account and not holder_name:
        raise ApplicationError(
            "This refund goes by bank transfer: the account holder's name is required.",
            code="holder_name_required",
            field="holder_name",
        )
    return {**data, "quantity": quantity, "iban": iban, "holder_name": holder_name}


def _lock_item(item_id: int) -> tuple[Order, list[OrderItem], OrderItem]:
    order_id = OrderItem.objects.values_list("order_id", flat=True).get(pk=item_id)
    order, items = order_lock(order_id, with_channel=True)
    item = next(i for i in items if i.pk == item_id)
    return order, items, item


def _easy_return_issue(*, channel) -> EasyReturn | None:
    """A return shipment code for a refund request, when the channel offers easy returns."""
    conf = (channel.conf or {}).get("easy_return")
    if not conf:
        return None
    start = timezone.now()
    for _ in range(5):
        code = "ER" + "".join(secrets.choice(EASY_RETURN_ALPHABET) for _ in range(10))
        if not EasyReturn.objects.filter(code=code).exists():
            break
    return EasyReturn.objects.create(
        shipping_company=conf["shipping_company"],
        code=code,
        start_date=start,
        end_date=start + timedelta(days=int(conf.get("valid_days", 14))),
        max_count=int(conf.get("max_count", 1)),
    )


REQUEST_FIELDS = (
    "reason",
    "description",
    "cancellation_type",
    "iban",
    "holder_name",
    "quantity",
    "fully_refund_as_loyalty_money",
    "attributes",
    "attributes_kwargs",
    "localized_attributes",
    "localized_attributes_kwargs",
)


@dataclass(frozen=True, kw_only=True)
class RequestInput:
    """The fields of a cancellation request a channel sends; on an update, only those it sent are set (a field
    left UNSET keeps its value)."""

    order_item: OrderItem | Unset = UNSET
    reason: CancellationReason | Unset = UNSET
    cancellation_type: str | Unset = UNSET
    description: str | Unset | None = UNSET
    iban: str | Unset | None = UNSET
    holder_name: str | Unset | None = UNSET
    quantity: int | Unset | None = UNSET
    fully_refund_as_loyalty_money: bool | Unset = UNSET
    status: str | Unset = UNSET
    attributes: dict | Unset = UNSET
    attributes_kwargs: dict | Unset = UNSET
    localized_attributes: dict | Unset = UNSET
    localized_attributes_kwargs: dict | Unset = UNSET

    def given(self) -> dict:
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if getattr(self, field.name) is not UNSET
        }


def cancellation_request_create(*, channel, fields: RequestInput, actor=None) -> CancellationRequest:
    """A channel asks to cancel (unshipped) or return (shipped) an order item. `data` as the input serializer
    validated it: `order_item` and `reason` are model instances."""
    data = fields.given()
    with transaction.atomic():
        order, items, item = _lock_item(data["order_item"].pk)
        fields = _request_checks(channel=channel, item=item, data=data, current=None)
        request = CancellationRequest(
            order_item=item,
            channel_id=order.channel_id,
            date_placed=order.date_placed,
            customer_id=order.customer_id,
            status=CancellationRequestStatus.WAITING,
        )
        for name in REQUEST_FIELDS:
            if name in fields:
                setattr(request, name, fields[name])
        if request.cancellation_type == CancellationPlanType.REFUND:
            request.easy_return = _easy_return_issue(channel=channel)
        request.save()
        order_item_cancel_status_set(item=item, cancel_status=CancelStatus.WAITING)
        order_event_write(
            order=order,
            type=OrderEventType.REQUEST_CREATED,
            actor=actor,
            payload={
                "cancellation_request": request.pk,
                "order_item": item.pk,
                "cancellation_type": request.cancellation_type,
                "quantity": request.quantity,
                "reason": request.reason_id,
            },
        )
        order_aggregates_refresh(order=order, items=items, actor=actor)
        notices = Notices(order.channel)
        notices.request(WebhookEventType.REQUEST_CREATED, request)
        notices.send()
    return request


def _lock_request(request_id: int) -> tuple[CancellationRequest, Order, list[OrderItem]]:
    item_id = CancellationRequest.objects.values_list("order_item_id", flat=True).get(pk=request_id)
    order, items, _ = _lock_item(item_id)
    request = CancellationRequest.objects.select_for_update().select_related("reason").get(pk=request_id)
    return request, order, items


def _require_waiting(request: CancellationRequest, action: str) -> None:
    if request.status != CancellationRequestStatus.WAITING:
        raise ApplicationError(
            f"Only a waiting request can be {action}; this one is {request.status}.", code="request_not_waiting"
        )


def cancellation_request_update(*, channel, request_id: int, changes: RequestInput, actor=None) -> CancellationRequest:
    """PUT/PATCH while the request waits: the same checks as create; its status changes only through the actions."""
    data = changes.given()
    current_item_id = CancellationRequest.objects.values_list("order_item_id", flat=True).get(pk=request_id)
    new_item_id = data["order_item"].pk if "order_item" in data else current_item_id
    order_ids = sorted(
        set(OrderItem.objects.filter(pk__in={current_item_id, new_item_id}).values_list("order_id", flat=True))
    )
    with transaction.atomic():
        # Lock every order involved, by ascending id like every other writer, then the request.
        locked = {}
        for order_id in order_ids:
            locked[order_id] = order_lock(order_id)
        request = CancellationRequest.objects.select_for_update().select_related("reason").get(pk=request_id)
        _require_waiting(request, "changed")
        if request.order_item_id != current_item_id:
            raise ApplicationError("The request changed meanwhile; retry.", code="conflict")
        if "status" in data and data["status"] != request.status:
            raise ApplicationError(
                "status cannot be changed here: use the reject or approve actions.",
                code="status_change_not_allowed",
                field="status",
            )
        items_by_id = {item.pk: (order, item) for order, items in locked.values() for item in items}
        _, old_item = items_by_id[current_item_id]
        new_order, new_item = items_by_id[new_item_id]
        new_item.order = new_order
        merged = {name: getattr(request, name) for name in REQUEST_FIELDS}
        merged.update({k: v for k, v in data.items() if k in REQUEST_FIELDS})
        if "quantity" not in data and new_item_id != current_item_id:
            merged["quantity"] = None  # all of the new item, unless a quantity is given
        fields = _request_checks(channel=channel, item=new_item, data=merged, current=request)
        changed = sorted(name for name in REQUEST_FIELDS if fields.get(name) != getattr(request, name))
        for name in REQUEST_FIELDS:
            setattr(request, name, fields.get(name))
        if new_item_id != current_item_id:
            order_item_cancel_status_set(item=old_item, cancel_status=None)
            request.order_item = new_item
            request.date_placed = new_order.date_placed
            order_item_cancel_status_set(item=new_item, cancel_status=CancelStatus.WAITING)
            changed.append("order_item")
        request.save()
        order_event_write(
            order=new_order,
            type=OrderEventType.REQUEST_UPDATED,
            actor=actor,
            payload={"cancellation_request": request.pk, "changed": changed},
        )
        for order, items in locked.values():
            order_aggregates_refresh(order=order, items=items, actor=actor)
    return request


def cancellation_request_delete(*, request_id: int, actor=None) -> None:
    """The channel withdraws a waiting request: the item is free again."""
    with transaction.atomic():
        request, order, items = _lock_request(request_id)
        _require_waiting(request, "deleted")
        item = next(i for i in items if i.pk == request.order_item_id)
        order_item_cancel_status_set(item=item, cancel_status=None)
        if request.easy_return_id:
            EasyReturn.objects.filter(pk=request.easy_return_id).update(
                status=EasyReturnStatus.EXPIRED, modified_date=timezone.now()
            )
        order_event_write(
            order=order,
            type=OrderEventType.REQUEST_DELETED,
            actor=actor,
            payload={"cancellation_request": request.pk, "order_item": item.pk},
        )
        request.delete()
        order_aggregates_refresh(order=order, items=items, actor=actor)


def cancellation_request_reject(*, request_id: int, actor=None) -> CancellationRequest:
    with transaction.atomic():
        request, order, items = _lock_request(request_id)
        _require_waiting(request, "rejected")
        request.status = CancellationRequestStatus.REJECTED
        request.save(update_fields=["status", "modified_date"])
        item = next(i for i in items if i.pk == request.order_item_id)
        order_item_cancel_status_set(item=item, cancel_status=CancelStatus.REJECTED)
        order_event_write(
            order=order, type=OrderEventType.REQUEST_REJECTED, actor=actor, payload={"cancellation_request": request.pk}
        )
        order_aggregates_refresh(order=order, items=items, actor=actor)
        notices = Notices(order.channel)
        notices.request(WebhookEventType.REQUEST_REJECTED, request)
        notices.send()
    return request


def cancellation_request_approve(
    *, request_id: int, actor=None, forced_refund_amount: Decimal | None = None
) -> CancellationRequest:
    """Run the order cancellation for the request's item and quantity; the request follows its plan."""
    with transaction.atomic():
        request, _, _ = _lock_request(request_id)
        _require_waiting(request, "approved")
        item_id = request.order_item_id
        order_cancel(
            order_id=request.order_item.order_id,
            actor=actor,
            item_ids=[item_id],
            quantities={item_id: request.quantity},
            reasons={item_id: request.reason_id},
            forced_refund_amount=forced_refund_amount,
            ibans={item_id: request.iban} if request.iban else {},
            holder_names={item_id: request.holder_name} if request.holder_name else {},
            refund_as_loyalty_money=request.fully_refund_as_loyalty_money,
            request=request,
        )
        request.refresh_from_db()
    return request


def cancellation_request_approve_preview(*, request_id: int, actor=None) -> list[Refund]:
    """The refunds approving the request would make now, made and undone (a savepoint rolled back, nothing queued):
    refused exactly as the approval would be."""
    try:
        with transaction.atomic():
            request = cancellation_request_approve(request_id=request_id, actor=actor)
            refunds = Refund.objects.filter(plan_id=request.cancellation_plan_id).select_related("order__customer")
            made = list(refunds.order_by("id"))
            raise _DryRun
    except _DryRun:
        pass
    return made
