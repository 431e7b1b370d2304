"""What a cancellation gives back, to the cent: pure functions of amounts and counts, no database.

Every refund of the service is priced here: the cancel endpoint, request approval, the eligibility view and quotes
all call `plan_price`, so they can never disagree.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from orders.money import CENT, allocate

ZERO = Decimal("0.00")


def units_share(total: Decimal, quantity: int, units: int) -> Decimal:
    """What the first `units` of `quantity` units carry of `total`: rounded to the cent, and exactly `total` at
    `units == quantity`, so successive partial cancels of one item give back exactly its value."""
    return (total * units / quantity).quantize(CENT, rounding=ROUND_HALF_UP)


def units_refund(total: Decimal, *, quantity: int, cancelled_before: int, units: int) -> Decimal:
    """What cancelling `units` more units gives back of `total` when `cancelled_before` are already cancelled: the
    difference of the cumulative shares, never a share of its own (which would drift by a cent)."""
    return units_share(total, quantity, cancelled_before + units) - units_share(total, quantity, cancelled_before)


@dataclass(frozen=True)
class LineInput:
    """One item line of a plan: what the customer paid for the line, its discount share, how many units it has,
    how many were cancelled before, and how many this plan cancels."""

    amount: Decimal
    discount_amount: Decimal
    quantity: int
    cancelled_before: int
    units: int


@dataclass(frozen=True)
class LinePrice:
    refund_amount: Decimal
    discount_refund_amount: Decimal


@dataclass(frozen=True)
class PlanPrice:
    lines: tuple[LinePrice, ...]
    items_total: Decimal  # the items refund (what `forced_refund_amount` replaces)
    cargo_total: Decimal  # the shipping-fee refund

    @property
    def total(self) -> Decimal:
        return self.items_total + self.cargo_total


def line_price(line: LineInput) -> LinePrice:
    counts = {"quantity": line.quantity, "cancelled_before": line.cancelled_before, "units": line.units}
    return LinePrice(
        refund_amount=units_refund(line.amount, **counts),
        discount_refund_amount=units_refund(line.discount_amount, **counts),
    )


def plan_price(
    *,
    lines: list[LineInput],
    refundable: Decimal,
    shipping_left: Decimal,
    forced: Decimal | None = None,
    refunds_money: bool = True,
    cargo_granted: bool = False,
) -> PlanPrice:
    """Price a plan.

    - Each line gives back its units' share of the line's amount (and, for the books, of its discount).
    - `refunds_money` False (nothing was collected, e.g. a pay-on-delivery cancel): everything is zero.
    - The items refund is `forced` when given (the caller has checked `forced <= refundable`), else the lines'
      sum capped at `refundable`; when it is below the lines' sum, it is shared over them by largest remainder, so
      the lines add up to it exactly and none gives back more than it computed.
    - The shipping fee goes back when granted, as much of `shipping_left` as `refundable` still allows.
    """
    priced = [line_price(line) for line in lines]
    if not refunds_money:
        return PlanPrice(
            lines=tuple(LinePrice(ZERO, p.discount_refund_amount) for p in priced), items_total=ZERO, cargo_total=ZERO
        )
    computed = sum((p.refund_amount for p in priced), ZERO)
    items_total = forced if forced is not None else min(computed, refundable)
    if items_total < computed:
        shares = allocate(items_total, [p.refund_amount for p in priced])
        priced = [LinePrice(share, p.discount_refund_amount) for p, share in zip(priced, shares, strict=True)]
    cargo_total = min(shipping_left, refundable - items_total) if cargo_granted else ZERO
    return PlanPrice(lines=tuple(priced), items_total=items_total, cargo_total=max(cargo_total, ZERO))
