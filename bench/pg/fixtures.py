"""Rows the timed calls consume, made in SQL outside the 1M-request set: fresh orders to cancel, and orders already
cancelled whose refunds wait for a worker (the state `order_cancel` leaves with a broker and no worker yet)."""

from dataclasses import dataclass

from bench.pg.dataset import BASE_COLUMNS, base_values, has_column, reserve_ids

# Three unshipped items, an order discount shared over them, a shipping fee: 110.00 of items + 9.90 = 119.90.
ITEMS = (("50.00", "4.17"), ("30.00", "2.50"), ("40.00", "3.33"))
ITEMS_TOTAL = "110.00"
SHIPPING = "9.90"
ORDER_TOTAL = "119.90"


@dataclass(frozen=True)
class FreshOrder:
    order_id: int
    item_ids: list[int]


def _orders(cursor, *, count: int, channel_id: int, prefix: str, cancelled: bool) -> list[FreshOrder]:
    customer = reserve_ids(cursor, "orders_customer", 1)
    cursor.execute(
        f"INSERT INTO orders_customer (id, {BASE_COLUMNS}, email, first_name, last_name, phone_number, channel_id) "
        f"VALUES (%s, {base_values('now()')}, %s, 'Bench', %s, '', %s)",
        [customer, f"{prefix.lower()}@example.com", prefix, channel_id],
    )
    first_order = reserve_ids(cursor, "orders_order", count)
    first_item = reserve_ids(cursor, "orders_orderitem", 3 * count)
    products = reserve_ids(cursor, "orders_product", 3)
    cursor.execute(
        f"INSERT INTO orders_product (id, {BASE_COLUMNS}, sku, name) "
        f"SELECT p, {base_values('now()')}, %s || '-' || p, 'Bench product' FROM generate_series(%s, %s) p",
        [prefix, products, products + 2],
    )
    status, cancel_status = ("100", "'approved'") if cancelled else ("400", "NULL")
    cursor.execute(
        f"INSERT INTO orders_order (id, {BASE_COLUMNS}, number, date_placed, status, cancel_status, currency, "
        "amount, discount_amount, shipping_amount, refund_amount, discount_refund_amount, shipping_refund_amount, "
        "payment_option, payment_reference, channel_id, customer_id, extra_field) "
        f"SELECT o, {base_values('now()')}, %s || '-' || o, now(), %s, {cancel_status}, 'try', {ORDER_TOTAL}, "
        f"10.00, {SHIPPING}, 0, 0, 0, 'credit_card', 'TX-' || o, %s, %s, '{{}}' FROM generate_series(%s, %s) o",
        [prefix, status, channel_id, customer, first_order, first_order + count - 1],
    )
    prices = "ARRAY[" + ", ".join(price for price, _ in ITEMS) + "]::numeric[]"
    shares = "ARRAY[" + ", ".join(share for _, share in ITEMS) + "]::numeric[]"
    cursor.execute(
        f"INSERT INTO orders_orderitem (id, {BASE_COLUMNS}, quantity, price, tax_rate, status, cancel_status, "
        "cancelled_quantity, discount_amount, amount, refund_amount, order_id, product_id, extra_field) "
        f"SELECT %s + 3 * (o - %s) + line, {base_values('now()')}, 1, ({prices})[line + 1], 20, %s, "
        f"{cancel_status}, %s, ({shares})[line + 1], ({prices})[line + 1] - ({shares})[line + 1], 0, o, %s + line, "
        "'{}' FROM generate_series(%s, %s) o, generate_series(0, 2) line",
        [first_item, first_order, status, 1 if cancelled else 0, products, first_order, first_order + count - 1],
    )
    return [
        FreshOrder(order_id=first_order + n, item_ids=[first_item + 3 * n + line for line in range(3)])
        for n in range(count)
    ]


def fresh_orders(cursor, *, count: int, channel_id: int, prefix: str) -> list[FreshOrder]:
    """`count` new credit-card orders of three approved, unshipped items, for `POST .../cancel/` with `is_all`."""
    return _orders(cursor, count=count, channel_id=channel_id, prefix=prefix, cancelled=False)


def pending_refunds(cursor, *, count: int, channel_id: int, prefix: str) -> list[int]:
    """`count` orders as a full cancel leaves them before any worker ran: items cancelled, a waiting plan, and two
    pending sandbox refunds (the items and the shipping fee). Returns the refund ids, 2 x count of them."""
    orders = _orders(cursor, count=count, channel_id=channel_id, prefix=prefix, cancelled=True)
    first_order = orders[0].order_id
    last_order = orders[-1].order_id
    plan_channel = has_column(cursor, "cancellations_cancellationplan", "channel_id")
    refund_channel = has_column(cursor, "refunds_refund", "channel_id")
    first_plan = reserve_ids(cursor, "cancellations_cancellationplan", count)
    cursor.execute(
        f"INSERT INTO cancellations_cancellationplan (id, {BASE_COLUMNS}, plan_type, status, is_cargo_refund, "
        f"order_id{', channel_id' if plan_channel else ''}) "
        f"SELECT %s + o - %s, {base_values('now()')}, 'cancel', 'waiting', false, o"
        f"{', %s' if plan_channel else ''} FROM generate_series(%s, %s) o",
        [first_plan, first_order, *([channel_id] if plan_channel else []), first_order, last_order],
    )
    first_plan_item = reserve_ids(cursor, "cancellations_cancellationplanitem", 3 * count)
    cursor.execute(
        "INSERT INTO cancellations_cancellationplanitem (id, quantity, refund_amount, discount_refund_amount, "
        "order_item_id, plan_id, reason_id) "
        "SELECT %s + i.id - %s, 1, i.amount, i.discount_amount, i.id, %s + i.order_id - %s, 1 "
        "FROM orders_orderitem i WHERE i.order_id BETWEEN %s AND %s",
        [first_plan_item, orders[0].item_ids[0], first_plan, first_order, first_order, last_order],
    )
    first_refund = reserve_ids(cursor, "refunds_refund", 2 * count)
    cursor.execute(
        f"INSERT INTO refunds_refund (id, {BASE_COLUMNS}, kind, method, amount, currency, status, attempts, "
        "last_error, gateway_reference, iban, holder_name, plan_id, order_id, instructions"
        f"{', channel_id' if refund_channel else ''}) "
        f"SELECT %s + 2 * (o - %s) + (kind = 'cargo')::int, {base_values('now()')}, kind, 'original_payment', "
        f"CASE kind WHEN 'items' THEN {ITEMS_TOTAL} ELSE {SHIPPING} END, 'try', 'pending', 0, '', '', '', '', "
        f"%s + o - %s, o, '{{}}'{', %s' if refund_channel else ''} "
        "FROM generate_series(%s, %s) o, unnest(ARRAY['items', 'cargo']) kind",
        [
            first_refund,
            first_order,
            first_plan,
            first_order,
            *([channel_id] if refund_channel else []),
            first_order,
            last_order,
        ],
    )
    return list(range(first_refund, first_refund + 2 * count))


def refunds_by_plan(cursor, refund_ids: list[int]) -> list[list[int]]:
    """The refunds grouped as their plans hold them (a cancel queues its plan's refunds in one message), in id order."""
    cursor.execute(
        "SELECT array_agg(id ORDER BY id) FROM refunds_refund WHERE id = ANY(%s) GROUP BY plan_id ORDER BY min(id)",
        [refund_ids],
    )
    return [row[0] for row in cursor.fetchall()]


def refunds_settled(cursor, refund_ids: list[int]) -> int:
    cursor.execute(
        "SELECT count(*) FROM refunds_refund WHERE id = ANY(%s) AND status IN ('succeeded', 'failed')", [refund_ids]
    )
    return cursor.fetchone()[0]


def refund_outcomes(cursor, refund_ids: list[int]) -> dict:
    """What the refunds' plans and orders became: every plan completed and every order refunded in full, when the
    service settled the rows made here as it settles its own."""
    cursor.execute(
        "SELECT count(DISTINCT p.id) FILTER (WHERE p.status = 'completed'), count(DISTINCT p.id), "
        f"count(DISTINCT o.id) FILTER (WHERE o.refund_amount = {ORDER_TOTAL}), "
        "count(*) FILTER (WHERE r.status = 'succeeded') "
        "FROM refunds_refund r JOIN cancellations_cancellationplan p ON p.id = r.plan_id "
        "JOIN orders_order o ON o.id = r.order_id WHERE r.id = ANY(%s)",
        [refund_ids],
    )
    completed, plans, refunded_orders, succeeded = cursor.fetchone()
    return {"plans_completed": completed, "plans": plans, "orders_refunded": refunded_orders, "succeeded": succeeded}
