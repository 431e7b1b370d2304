from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders.money import allocate

cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c) / 100)


def test_allocate_splits_in_proportion_and_gives_leftover_cents_to_largest_remainders():
    assert allocate(Decimal("10.00"), [Decimal("1"), Decimal("1"), Decimal("1")]) == [
        Decimal("3.34"),
        Decimal("3.33"),
        Decimal("3.33"),
    ]
    assert allocate(Decimal("1.00"), [Decimal("30"), Decimal("70")]) == [Decimal("0.30"), Decimal("0.70")]
    assert allocate(Decimal("0.00"), [Decimal("5")]) == [Decimal("0.00")]
    assert allocate(Decimal("0.00"), [Decimal("0"), Decimal("0")]) == [Decimal("0.00"), Decimal("0.00")]


def test_allocate_refuses_money_over_nothing():
    with pytest.raises(ValueError, match="zero weights"):
        allocate(Decimal("1.00"), [Decimal("0")])


@given(weights=st.lists(cents, min_size=1, max_size=12), data=st.data())
def test_allocate_adds_up_exactly_and_no_part_exceeds_its_weight(weights, data):
    total_weight = sum(weights, Decimal(0))
    if total_weight == 0:
        return
    total = data.draw(st.integers(min_value=0, max_value=int(total_weight * 100)).map(lambda c: Decimal(c) / 100))

    parts = allocate(total, weights)

    assert sum(parts, Decimal(0)) == total
    assert all(part.as_tuple().exponent == -2 for part in parts)
    for part, weight in zip(parts, weights, strict=True):
        assert Decimal(0) <= part <= weight
        # never more than a cent away from the exact proportional share
        assert abs(part - total * weight / total_weight) < Decimal("0.01")
