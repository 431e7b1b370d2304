"""The list calls of `make bench-pg`, with filter values read from the data set so every filter finds rows."""

from dataclasses import dataclass
from datetime import datetime

from bench.pg.measure import PAGE_SIZE, Target

LIST_TARGET = Target(p50=2.5, p95=3, flat_queries=True)
DEEP_PAGE_TARGET = Target(p50=2, p95=2, flat_queries=True)
DEEP_PAGE = 500


@dataclass(frozen=True)
class ListCall:
    label: str
    path: str
    params: dict
    floor_offset: int
    target: Target


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def request_filters(cursor, *, channel_id: int) -> list[tuple[str, str]]:
    """One value per filter of the request lists' contract, taken from a request of the channel in the middle of
    the id range that has an easy return and a plan (so every filter matches it)."""
    cursor.execute(
        "SELECT r.id, o.number, o.date_placed, p.sku, c.first_name, c.last_name, c.email, o.id, e.code, "
        "e.tracking_number FROM cancellations_cancellationrequest r "
        "JOIN orders_orderitem i ON i.id = r.order_item_id JOIN orders_order o ON o.id = i.order_id "
        "JOIN orders_product p ON p.id = i.product_id JOIN orders_customer c ON c.id = o.customer_id "
        "JOIN cancellations_easyreturn e ON e.id = r.easy_return_id "
        "WHERE o.channel_id = %s AND r.cancellation_plan_id IS NOT NULL "
        "AND r.id >= (SELECT max(id) / 2 FROM cancellations_cancellationrequest) ORDER BY r.id LIMIT 1",
        [channel_id],
    )
    _, number, placed, sku, first_name, last_name, email, order_id, code, tracking = cursor.fetchone()
    # The middle of the orders' dates: half the requests were placed before it, half after.
    cursor.execute(
        "SELECT date_placed FROM orders_order ORDER BY id OFFSET (SELECT count(*) / 2 FROM orders_order) LIMIT 1"
    )
    middle = cursor.fetchone()[0]
    # 100 of the channel's requests spread over the whole table.
    cursor.execute(
        "SELECT id FROM (SELECT r.id, row_number() OVER (ORDER BY r.id) AS position, count(*) OVER () AS total "
        "FROM cancellations_cancellationrequest r JOIN orders_orderitem i ON i.id = r.order_item_id "
        "JOIN orders_order o ON o.id = i.order_id WHERE o.channel_id = %s) numbered "
        "WHERE position %% greatest(total / %s, 1) = 0 ORDER BY id LIMIT %s",
        [channel_id, PAGE_SIZE, PAGE_SIZE],
    )
    spread_ids = ",".join(str(row[0]) for row in cursor.fetchall())
    day = middle.date().isoformat()
    return [
        ("status", "waiting"),
        ("number", number),
        ("date_placed", _iso(placed)),
        ("date_placed__gt", _iso(middle)),
        ("date_placed__gte", _iso(middle)),
        ("date_placed__lt", _iso(middle)),
        ("date_placed__lte", _iso(middle)),
        ("date_placed__date__gt", day),
        ("date_placed__date__gte", day),
        ("date_placed__date__lt", day),
        ("date_placed__date__lte", day),
        ("sku", sku),
        ("channel", str(channel_id)),
        ("customer_first_name", first_name),
        ("customer_last_name", last_name),
        ("customer_email", email),
        ("order_id", str(order_id)),
        ("cancellation_plan_status", "completed"),
        ("easy_return_code", code),
        ("tracking_number", tracking),
        ("pk__in", spread_ids),
    ]


def deep_page(rows: int) -> int:
    """Page 500 of 100 rows where the data set has it; on a smaller set, the page in the middle."""
    return max(2, min(DEEP_PAGE, rows // PAGE_SIZE // 2))


def _count(cursor, sql: str, params=()) -> int:
    cursor.execute(sql, params)
    return cursor.fetchone()[0]


def list_calls(cursor, *, channel_id: int) -> list[ListCall]:
    channel_requests = _count(
        cursor,
        "SELECT count(*) FROM cancellations_cancellationrequest r JOIN orders_orderitem i ON i.id = r.order_item_id "
        "JOIN orders_order o ON o.id = i.order_id WHERE o.channel_id = %s",
        [channel_id],
    )
    request_page = deep_page(channel_requests)
    calls = []
    for shape in ("", "detailed/"):
        path = f"/api/channel/{channel_id}/cancellation_requests/{shape}"
        short = f"requests/{shape}"
        calls.append(ListCall(short, path, {}, 0, LIST_TARGET))
        for name, value in request_filters(cursor, channel_id=channel_id):
            calls.append(ListCall(f"{short}?{name}", path, {name: value}, 0, LIST_TARGET))
        offset = (request_page - 1) * PAGE_SIZE
        calls.append(ListCall(f"{short}?page={request_page}", path, {"page": request_page}, offset, DEEP_PAGE_TARGET))

    orders = _count(cursor, "SELECT count(*) FROM orders_order")
    plans = _count(cursor, "SELECT count(*) FROM cancellations_cancellationplan")
    channel_plans = _count(
        cursor,
        "SELECT count(*) FROM cancellations_cancellationplan p JOIN orders_order o ON o.id = p.order_id "
        "WHERE o.channel_id = %s",
        [channel_id],
    )
    for short, path, rows in (
        ("i1/orders/", "/api/i1/orders/", orders),
        ("i1/cancellation_plans/", "/api/i1/cancellation_plans/", plans),
        (f"channel/{channel_id}/cancellation_plans/", f"/api/channel/{channel_id}/cancellation_plans/", channel_plans),
    ):
        page = deep_page(rows)
        calls.append(ListCall(short, path, {}, 0, LIST_TARGET))
        calls.append(ListCall(f"{short}?page={page}", path, {"page": page}, (page - 1) * PAGE_SIZE, DEEP_PAGE_TARGET))
    return calls
