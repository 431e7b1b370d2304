"""The cancellation rules: may this item be cancelled or returned, does this reason fit, is a bank account needed,
is the shipping fee refunded. One function per question, one code per refusal.

The cancel endpoint, the request endpoints, request approval, the eligibility view and quotes all ask these
functions, so they can never disagree. A function that finds a rule broken returns a `Refusal` (eligibility lists
them) or raises it as an ApplicationError (the services), never both ways with different words.
"""

from dataclasses import dataclass

from cancellations.models import CancellationPlanType, CancellationReason
from cancellations.strategies import CancellationStrategy
from common.errors import ApplicationError
from orders.models import CancelStatus, Order, OrderItem, OrderStatus, PaymentOption
from refunds.models import RefundMethod


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    field: str | None = None
    extra: dict | None = None

    def error(self) -> ApplicationError:
        return ApplicationError(self.message, code=self.code, field=self.field, extra=self.extra)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


def refuse(refusal: Refusal | None) -> None:
    """Raise the refusal, if there is one."""
    if refusal is not None:
        raise refusal.error()


def cancellation_type_of(item: OrderItem) -> str:
    """`refund` (a return) for an item that has shipped, `cancel` for one that has not."""
    return CancellationPlanType.REFUND if OrderStatus.is_shipped(item.status) else CancellationPlanType.CANCEL


def item_is_final(item: OrderItem) -> bool:
    return OrderStatus.is_final(item.status) or item.open_quantity == 0


def item_refusal(
    *, item: OrderItem, quantity: int | None, for_request_id: int | None = None, field: str | None = None
) -> Refusal | None:
    """May `quantity` units of the item (all of its open units when None) be cancelled or returned now?

    `for_request_id`: the waiting request being approved or edited; its own `waiting` mark does not count against it.
    """
    extra = {"item": item.pk}
    if item_is_final(item):
        return Refusal("item_already_cancelled", f"Item {item.pk} is already cancelled or refunded.", field, extra)
    if item.cancel_status == CancelStatus.APPROVED:
        return Refusal("item_already_approved", f"Item {item.pk} already has a cancellation in progress.", field, extra)
    if item.cancel_status == CancelStatus.WAITING and for_request_id is None:
        return Refusal(
            "item_has_waiting_request",
            f"Item {item.pk} has a cancellation request waiting for a decision; approve or reject it instead.",
            field,
            extra,
        )
    units = item.open_quantity if quantity is None else quantity
    if not 1 <= units <= item.open_quantity:
        return Refusal(
            "quantity_not_available",
            f"Item {item.pk} has {item.open_quantity} unit(s) left to cancel; {units} asked.",
            "quantity" if field else None,
            extra,
        )
    return None


def type_refusal(*, item: OrderItem, cancellation_type: str) -> Refusal | None:
    """A request names its type; it must be the one the item's state calls for."""
    expected = cancellation_type_of(item)
    if cancellation_type == expected:
        return None
    state = "shipped" if expected == CancellationPlanType.REFUND else "not shipped yet"
    return Refusal(
        "type_does_not_fit_item",
        f'An item in status "{item.status}" ({state}) can only be asked to {expected}.',
        "cancellation_type",
    )


def mixed_types_refusal(items: list[OrderItem]) -> Refusal | None:
    if len({cancellation_type_of(item) for item in items}) > 1:
        return Refusal(
            "mixed_cancel_and_refund",
            "Unshipped items are cancelled and shipped items are returned: do one or the other per call.",
        )
    return None


def reason_refusal(
    *, reason: CancellationReason | None, reason_id: int | None, cancellation_type: str, item_id: int | None, field: str
) -> Refusal | None:
    """Does the reason exist, is it active, and is it of the item's type?"""
    extra = {"item": item_id} if item_id is not None else {}
    if reason_id is None:
        return Refusal("reason_missing", f"Item {item_id} needs a reason.", field, extra)
    if reason is None or not reason.is_active:
        return Refusal("reason_invalid", f"Reason {reason_id} does not exist or is not active.", field, extra)
    if reason.cancellation_type != cancellation_type:
        return Refusal(
            "reason_type_mismatch",
            f"Reason {reason_id} is a {reason.cancellation_type} reason; a {cancellation_type} reason is needed.",
            field,
            extra,
        )
    return None


def refund_method_for(*, payment_option: str, plan_type: str, as_loyalty_money: bool = False) -> str | None:
    """How the money goes back, by how it came in. None: nothing was collected, nothing to refund."""
    if as_loyalty_money:
        return RefundMethod.LOYALTY_MONEY
    if payment_option == PaymentOption.PAY_ON_DELIVERY:
        return None if plan_type == CancellationPlanType.CANCEL else RefundMethod.FUNDS_TRANSFER
    return {
        PaymentOption.CREDIT_CARD: RefundMethod.ORIGINAL_PAYMENT,
        PaymentOption.FINANCING: RefundMethod.FINANCING,
        PaymentOption.LOYALTY_MONEY: RefundMethod.LOYALTY_MONEY,
        PaymentOption.FUNDS_TRANSFER: RefundMethod.FUNDS_TRANSFER,
    }[payment_option]


def bank_account_required(*, payment_option: str, plan_type: str, as_loyalty_money: bool = False) -> bool:
    """The refund goes by bank transfer, so the customer's IBAN and the account holder's name are needed."""
    method = refund_method_for(payment_option=payment_option, plan_type=plan_type, as_loyalty_money=as_loyalty_money)
    return method == RefundMethod.FUNDS_TRANSFER


def cargo_on_request_refusal(
    *, order: Order, strategy: CancellationStrategy, cargo_already_planned: bool
) -> Refusal | None:
    """May the shipping fee be refunded alone (`is_cargo_refund`) now?"""
    if not strategy.allows_cargo_on_request:
        return Refusal(
            "cargo_refund_not_allowed", "This channel's cancellation strategy never refunds the shipping fee."
        )
    if cargo_already_planned or order.shipping_amount - order.shipping_refund_amount <= 0:
        return Refusal("cargo_already_refunded", "The shipping fee was already refunded (or there is none).")
    if order.payment_option == PaymentOption.FINANCING:
        # The provider cancels items or the whole order; a shipping fee alone cannot be expressed to it.
        return Refusal(
            "cargo_refund_not_supported",
            "The financing provider cannot refund the shipping fee alone; it goes back with the last items.",
        )
    return None


def cargo_granted_with_items(
    *,
    order: Order,
    items: list[OrderItem],
    units: dict[int, int],
    plan_type: str,
    strategy: CancellationStrategy,
    cargo_already_planned: bool,
) -> bool:
    """Does a plan cancelling `units` ({item id: units}) of the order's items also refund the shipping fee?"""
    if cargo_already_planned or order.shipping_amount - order.shipping_refund_amount <= 0:
        return False
    leaves_nothing = all(item_is_final(item) or item.open_quantity - units.get(item.pk, 0) == 0 for item in items)
    any_shipped = any(OrderStatus.is_shipped(item.status) or item.status == OrderStatus.REFUNDED for item in items)
    return strategy.grants_cargo_with_items(
        plan_type=plan_type, leaves_nothing_uncancelled=leaves_nothing, any_shipped=any_shipped
    )
