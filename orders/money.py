"""Money arithmetic to the cent: every split adds up exactly to what is split."""

from decimal import ROUND_DOWN, Decimal

CENT = Decimal("0.01")


def to_cents(value: Decimal) -> int:
    return int((value / CENT).to_integral_value())


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) * CENT).quantize(CENT)


def allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split `total` in proportion to `weights`, to the cent, so that the parts add up to `total` exactly.

    Largest-remainder method: every part is first rounded down, then the cents left over go one each to the parts
    with the largest remainders (earlier parts first on a tie). A part never exceeds its exact proportional share
    rounded up, so when `total <= sum(weights)` no part exceeds its weight.
    """
    total_cents = to_cents(total)
    weight_sum = sum(weights, Decimal(0))
    if not weights:
        return []
    if weight_sum == 0:
        if total_cents:
            raise ValueError("Cannot allocate a non-zero total over zero weights.")
        return [from_cents(0) for _ in weights]
    floors = []
    remainders = []
    for index, weight in enumerate(weights):
        exact = Decimal(total_cents) * weight / weight_sum
        floor = int(exact.to_integral_value(rounding=ROUND_DOWN))
        floors.append(floor)
        remainders.append((exact - floor, -index))
    leftover = total_cents - sum(floors)
    for _, negative_index in sorted(remainders, reverse=True)[:leftover]:
        floors[-negative_index] += 1
    return [from_cents(cents) for cents in floors]
