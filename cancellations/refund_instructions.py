"""What a refund's rail must do besides moving money, decided when the plan is made and stored on the refund
(`Refund.instructions`), so the refunds app never reads plans, and a retry made after later plans does exactly what
was decided.

Only the financing rail has instructions: the provider is told which items were cancelled (not shipped) or returned
(shipped). It takes no amounts and no quantities: naming an item marks its whole line, and the empty request marks
every item not yet marked ("use an empty request if marking the last items").
"""

from cancellations.models import CancellationPlanType
from orders.models import Product
from refunds.models import RefundKind, RefundMethod

CARGO_NOT_SUPPORTED = "NOT_SUPPORTED: the financing provider cannot refund the shipping fee without the whole order."
NO_ITEM = "NOT_SUPPORTED: the plan names no item to cancel or return."


def financing_item(product: Product) -> dict:
    """How the provider identifies an order item: by what we sent when the application was created. Every property
    sent must match exactly, so the EAN is left out when we do not know it."""
    item = {"code": product.sku}
    if product.ean:
        item["ean"] = product.ean
    return item


def refund_instructions(
    *,
    method: str,
    kind: str,
    plan_type: str,
    products: list[Product],
    takes_rest_of_order: bool,
    has_items_refund: bool,
) -> dict:
    """The instructions of one refund of a plan.

    `products`: the plan's items' products; `takes_rest_of_order`: after the plan no unit of the order is left
    open (then the provider gets the empty request, which also releases the shipping fee);
    `has_items_refund`: the plan has an items refund that will make that call.
    """
    if method != RefundMethod.FINANCING:
        return {}
    if kind == RefundKind.CARGO:
        if takes_rest_of_order and has_items_refund:
            return {"rides_on_items": True}
        return {"unsupported": CARGO_NOT_SUPPORTED}
    if not products:
        return {"unsupported": NO_ITEM}
    return {
        "action": "return" if plan_type == CancellationPlanType.REFUND else "cancel",
        "items": None if takes_rest_of_order else [financing_item(product) for product in products],
    }
