"""The pricing of a cancellation, as pure functions: no database, no HTTP."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cancellations.pricing import LineInput, LinePrice, plan_price, units_refund, units_share

D = Decimal


@pytest.mark.parametrize(
    ("total", "quantity", "units", "share"),
    [
        (D("100.00"), 1, 1, D("100.00")),
        (D("100.00"), 3, 1, D("33.33")),
        (D("100.00"), 3, 2, D("66.67")),
        (D("100.00"), 3, 3, D("100.00")),
        (D("0.01"), 2, 1, D("0.01")),  # half a cent rounds half up
        (D("0.01"), 3, 1, D("0.00")),
        (D("99.99"), 7, 0, D("0.00")),
    ],
)
def test_units_share(total, quantity, units, share):
    assert units_share(total, quantity, units) == share


@pytest.mark.parametrize(
    ("cancelled_before", "units", "refund"),
    [(0, 1, D("33.33")), (1, 1, D("33.34")), (2, 1, D("33.33")), (0, 3, D("100.00")), (1, 2, D("66.67"))],
)
def test_units_refund_is_the_difference_of_cumulative_shares(cancelled_before, units, refund):
    assert units_refund(D("100.00"), quantity=3, cancelled_before=cancelled_before, units=units) == refund


def line(amount, quantity=1, discount="0.00", cancelled_before=0, units=None):
    return LineInput(
        amount=D(amount),
        discount_amount=D(discount),
        quantity=quantity,
        cancelled_before=cancelled_before,
        units=quantity - cancelled_before if units is None else units,
    )


@pytest.mark.parametrize(
    ("kwargs", "lines", "items_total", "cargo_total"),
    [
        # the lines' sum, shipping not granted
        ({"refundable": D("300.00"), "shipping_left": D("15.00")}, ["90.00", "100.00"], D("190.00"), D("0.00")),
        # shipping granted: all of it, as the order still has room for it
        (
            {"refundable": D("205.00"), "shipping_left": D("15.00"), "cargo_granted": True},
            ["90.00", "100.00"],
            D("190.00"),
            D("15.00"),
        ),
        # capped by what is still refundable: the lines share the cap, nothing is left for shipping
        (
            {"refundable": D("100.00"), "shipping_left": D("15.00"), "cargo_granted": True},
            ["90.00", "100.00"],
            D("100.00"),
            D("0.00"),
        ),
        # forced below the computed sum
        (
            {"refundable": D("300.00"), "shipping_left": D("0"), "forced": D("10.00")},
            ["90.00", "100.00"],
            D("10.00"),
            D("0"),
        ),
        # forced above the computed sum (the caller has checked it is refundable)
        (
            {"refundable": D("300.00"), "shipping_left": D("0"), "forced": D("250.00")},
            ["90.00", "100.00"],
            D("250.00"),
            D("0"),
        ),
        # nothing was collected: nothing goes back, whatever was asked
        (
            {"refundable": D("300.00"), "shipping_left": D("15.00"), "refunds_money": False, "cargo_granted": True},
            ["90.00", "100.00"],
            D("0.00"),
            D("0.00"),
        ),
    ],
)
def test_plan_price_table(kwargs, lines, items_total, cargo_total):
    price = plan_price(lines=[line(amount) for amount in lines], **kwargs)

    assert (price.items_total, price.cargo_total) == (items_total, cargo_total)
    assert price.total == items_total + cargo_total
    if items_total <= sum(D(a) for a in lines):
        assert sum(p.refund_amount for p in price.lines) == items_total


def test_a_forced_amount_below_the_lines_is_shared_by_largest_remainder():
    price = plan_price(lines=[line("10.00"), line("10.00"), line("10.00")], refundable=D("30.00"),
                       shipping_left=D("0"), forced=D("10.00"))  # fmt: skip

    assert [p.refund_amount for p in price.lines] == [D("3.34"), D("3.33"), D("3.33")]


def test_the_discount_share_goes_back_with_the_units():
    price = plan_price(lines=[line("90.00", quantity=3, discount="10.00", units=1)], refundable=D("90.00"),
                       shipping_left=D("0"))  # fmt: skip

    assert price.lines == (LinePrice(refund_amount=D("30.00"), discount_refund_amount=D("3.33")),)


cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: (D(c) / 100).quantize(D("0.01")))


@st.composite
def items(draw):
    quantity = draw(st.integers(min_value=1, max_value=20))
    amount = draw(cents)
    discount = D(draw(st.integers(min_value=0, max_value=int(amount * 100)))) / 100
    # units cancelled one plan after another, in chunks that end with the last unit
    chunks = []
    left = quantity
    while left:
        chunk = draw(st.integers(min_value=1, max_value=left))
        chunks.append(chunk)
        left -= chunk
    return amount, discount.quantize(D("0.01")), quantity, chunks


@given(items())
def test_successive_partial_cancels_give_back_exactly_the_line(item):
    amount, discount, quantity, chunks = item
    refunded = discount_back = D("0.00")
    before = 0
    for units in chunks:
        price = plan_price(
            lines=[LineInput(amount, discount, quantity, before, units)], refundable=amount, shipping_left=D("0")
        )
        (priced,) = price.lines
        assert D("0.00") <= priced.refund_amount <= amount
        refunded += priced.refund_amount
        discount_back += priced.discount_refund_amount
        before += units
    assert refunded == amount
    assert discount_back == discount


@given(
    st.lists(cents, min_size=1, max_size=8),
    cents,
    cents,
    st.one_of(st.none(), cents),
    st.booleans(),
)
def test_a_plan_never_gives_back_more_than_is_refundable(amounts, refundable, shipping_left, forced, cargo_granted):
    if forced is not None and forced > refundable:
        forced = refundable  # the service refuses a larger one before pricing
    price = plan_price(
        lines=[line(str(a)) for a in amounts],
        refundable=refundable,
        shipping_left=shipping_left,
        forced=forced,
        cargo_granted=cargo_granted,
    )

    computed = sum(amounts, D("0.00"))
    assert price.total <= max(refundable, D("0.00"))
    assert price.cargo_total <= shipping_left
    assert all(p.refund_amount >= 0 for p in price.lines)
    if price.items_total <= computed:
        assert sum(p.refund_amount for p in price.lines) == price.items_total
        assert all(p.refund_amount <= D(str(a)) for p, a in zip(price.lines, amounts, strict=True))
