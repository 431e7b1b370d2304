"""The data set of `make bench-pg`, built in SQL (generate_series, INSERT ... SELECT), never row by row.

Ids are explicit and derived from one another, so every table can be filled by one statement without reading
another table back:

- order `o` (1..orders) is in channel `o % 3 + 1`, belongs to customer `(o - 1) % customers + 1` (customers count
  a multiple of 3, so the customer is in the same channel) and has 3 items when odd, 2 when even: orders `2q+1`
  and `2q+2` share the items `5q+1 .. 5q+5`;
- request `n` (1..requests) is for item `(n - 1) * items / requests + 1`: ids follow the items, so the newest
  requests are for the newest orders, and an item has one or two requests (only its first may be waiting);
- a request with a plan (approved or completed) has the plan, the plan item and the refund of the same id `n`;
  every tenth request is a return with the easy return `n / 10`.

The cancellation requests, plans and refunds carry a `channel_id` column once the migration adding it has run;
the generator fills it when `information_schema` shows it, so it works before and after that migration (and
likewise the requests' `date_placed` and their id ceilings).
"""

import time
from contextlib import contextmanager
from dataclasses import dataclass

ORDER_SHARE = 0.302  # orders per cancellation request: 302k orders for 1M requests
CHANNELS = 3
PRODUCTS_MAX = 5_000
FIRST_PLACED = "2023-07-01 00:00:00+00"
SPAN_DAYS = 730

BASE_COLUMNS = "created_date, modified_date, uuid, attributes, attributes_kwargs, localized_attributes, " + (
    "localized_attributes_kwargs"
)


def base_values(moment: str) -> str:
    return f"{moment}, {moment}, gen_random_uuid(), '{{}}', '{{}}', '{{}}', '{{}}'"


# SQL for the order of item `i`, the first item of order `o`, its item count, and an item's price and quantity.
ORDER_OF_ITEM = "(2 * (({i} - 1) / 5) + 1 + (({i} - 1) % 5 >= 3)::int)"
FIRST_ITEM = "(5 * (({o} - 1) / 2) + CASE WHEN {o} % 2 = 1 THEN 1 ELSE 4 END)"
ITEM_COUNT = "(CASE WHEN {o} % 2 = 1 THEN 3 ELSE 2 END)"
ITEM_PRICE = "((10 + ({i} * 37) % 190)::numeric + 0.90)"
ITEM_QUANTITY = "(1 + ({i} % 4 = 0)::int)"
# A spread of 0..99 that does not follow the id's last digits.
BUCKET = "((hashint8({n})::bigint % 100 + 100) % 100)"


@dataclass(frozen=True)
class Sizes:
    requests: int
    orders: int
    items: int
    customers: int
    products: int
    easy_returns: int

    @classmethod
    def for_requests(cls, requests: int) -> "Sizes":
        orders = max(CHANNELS * 10, round(requests * ORDER_SHARE))
        items = 5 * (orders // 2) + 3 * (orders % 2)
        customers = CHANNELS * -(-orders // (3 * CHANNELS))
        return cls(
            requests=requests,
            orders=orders,
            items=items,
            customers=customers,
            products=min(PRODUCTS_MAX, max(100, requests // 200)),
            easy_returns=requests // 10,
        )


@dataclass
class Built:
    sizes: Sizes
    channel_ids: list[int]
    plans: int
    refunds: int
    seconds: float
    has_channel_columns: dict[str, bool]


def has_column(cursor, table: str, column: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = %s "
        "AND column_name = %s",
        [table, column],
    )
    return cursor.fetchone() is not None


def reset_sequence(cursor, table: str) -> None:
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM {table}), 1))"
    )


def reserve_ids(cursor, table: str, count: int) -> int:
    """The first of `count` consecutive ids nothing else will take (the table's sequence moves past them)."""
    cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
    first = cursor.fetchone()[0] + 1
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [first + count - 1])
    return first


# The tables the load fills in bulk: their secondary indexes and unique constraints are built once at the end, by
# sorting, rather than kept up to date row by row (three times faster at 1M requests).
BULK_TABLES = (
    "orders_customer",
    "orders_order",
    "orders_orderitem",
    "cancellations_easyreturn",
    "cancellations_cancellationplan",
    "cancellations_cancellationplanitem",
    "refunds_refund",
    "cancellations_cancellationrequest",
)


@contextmanager
def indexes_built_after(cursor, tables):
    """Drop the tables' indexes and unique constraints (not primary keys, which foreign keys need), then put every
    one back as it was, by its own definition, when the block ends. Runs in the caller's transaction."""
    cursor.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "WHERE c.contype = 'u' AND c.conrelid::regclass::text = ANY(%s)",
        [list(tables)],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [list(tables)],
    )
    indexes = cursor.fetchall()
    for table, name, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    yield
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for table, name, definition in constraints:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _, definition in indexes:
        cursor.execute(definition)


def build(cursor, *, requests: int) -> Built:
    started = time.perf_counter()
    sizes = Sizes.for_requests(requests)
    channel_columns = {
        table: has_column(cursor, table, "channel_id")
        for table in ("cancellations_cancellationrequest", "cancellations_cancellationplan", "refunds_refund")
    }
    # Foreign keys are checked by triggers, one lookup per row; the ids here are consistent by construction, so
    # the load skips them (a superuser setting; without it the load is only slower).
    cursor.execute("SAVEPOINT replica_role")
    try:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("RELEASE SAVEPOINT replica_role")
    except Exception:
        cursor.execute("ROLLBACK TO SAVEPOINT replica_role")
    cursor.execute("SET LOCAL synchronous_commit = off")
    with indexes_built_after(cursor, BULK_TABLES):
        plans, refunds = _fill(cursor, sizes, channel_columns)
    for table in (
        "channels_channel",
        "orders_product",
        *BULK_TABLES,
        "cancellations_cancellationreason",
    ):
        reset_sequence(cursor, table)
    return Built(
        sizes=sizes,
        channel_ids=list(range(1, CHANNELS + 1)),
        plans=plans,
        refunds=refunds,
        seconds=time.perf_counter() - started,
        has_channel_columns=channel_columns,
    )


def _fill(cursor, s: Sizes, channel_columns: dict[str, bool]) -> tuple[int, int]:
    placed = f"'{FIRST_PLACED}'::timestamptz + ({{o}} - 1) * interval '{SPAN_DAYS} days' / {s.orders}"

    cursor.execute(
        f"INSERT INTO channels_channel (id, {BASE_COLUMNS}, name, channel_type, conf, is_active) "
        f"SELECT c, {base_values('now()')}, 'Bench channel ' || c, (ARRAY['web', 'marketplace', 'mobile'])[c], "
        f"'{{}}', true FROM generate_series(1, {CHANNELS}) c"
    )
    cursor.execute(
        f"INSERT INTO orders_product (id, {BASE_COLUMNS}, sku, name, ean, base_code) "
        f"SELECT p, {base_values('now()')}, 'SKU-' || lpad(p::text, 6, '0'), 'Bench product ' || p, "
        f"'869' || lpad(p::text, 10, '0'), 'BASE-' || (p / 4) FROM generate_series(1, {s.products}) p"
    )
    cursor.execute(
        f"INSERT INTO orders_customer (id, {BASE_COLUMNS}, email, first_name, last_name, phone_number, channel_id) "
        f"SELECT c, {base_values('now()')}, 'customer' || c || '@example.com', "
        "(ARRAY['Ayse', 'Mehmet', 'Zeynep', 'Mustafa', 'Elif', 'Ahmet', 'Deniz', 'Emre', 'Selin', 'Can'])"
        "[1 + c % 10] || (c / 10) % 20, "
        "(ARRAY['Yilmaz', 'Kaya', 'Demir', 'Sahin', 'Celik', 'Yildiz', 'Aydin', 'Ozturk'])[1 + c % 8] || (c / 80) % 50,"
        f" '+90532' || lpad(c::text, 7, '0'), c % {CHANNELS} + 1 FROM generate_series(1, {s.customers}) c"
    )
    order_amount = (
        f"(SELECT sum({ITEM_PRICE.format(i='i')} * {ITEM_QUANTITY.format(i='i')}) "
        f"FROM generate_series({FIRST_ITEM.format(o='o')}, {FIRST_ITEM.format(o='o')} + {ITEM_COUNT.format(o='o')} - 1)"
        " i)"
    )
    cursor.execute(
        f"INSERT INTO orders_order (id, {BASE_COLUMNS}, number, remote_id, date_placed, status, cancel_status, "
        "currency, amount, discount_amount, shipping_amount, refund_amount, discount_refund_amount, "
        "shipping_refund_amount, payment_option, payment_reference, financing_application_id, channel_id, "
        "customer_id, extra_field) "
        f"SELECT o, {base_values('placed')}, 'BENCH-' || lpad(o::text, 9, '0'), 'R' || o, placed, "
        "(ARRAY['400', '450', '500', '550', '550', '500', '100', '600'])[1 + o % 8], "
        "(ARRAY[NULL, NULL, NULL, 'waiting', 'approved', 'confirmed', 'rejected'])[1 + (o / 8) % 7], "
        f"'try', {order_amount} + 9.90, 0, 9.90, 0, 0, 0, "
        "(ARRAY['credit_card', 'credit_card', 'credit_card', 'funds_transfer', 'loyalty_money'])[1 + o % 5], "
        f"'TX-' || o, NULL, o % {CHANNELS} + 1, (o - 1) % {s.customers} + 1, '{{}}' "
        f"FROM (SELECT o, {placed.format(o='o')} AS placed FROM generate_series(1, {s.orders}) o) numbered"
    )
    cursor.execute(
        f"INSERT INTO orders_orderitem (id, {BASE_COLUMNS}, quantity, price, tax_rate, status, cancel_status, "
        "cancelled_quantity, discount_amount, amount, refund_amount, order_id, product_id, extra_field) "
        f"SELECT i, {base_values('placed')}, quantity, price, 20, "
        "(ARRAY['400', '450', '500', '550', '550', '500', '100', '600'])[1 + o % 8], "
        "(ARRAY[NULL, NULL, NULL, 'waiting', 'approved', 'confirmed', 'rejected'])[1 + (o / 8) % 7], "
        f"0, 0, price * quantity, 0, o, (i * 7) % {s.products} + 1, '{{}}' "
        f"FROM (SELECT i, o, {placed.format(o='o')} AS placed, {ITEM_PRICE.format(i='i')} AS price, "
        f"{ITEM_QUANTITY.format(i='i')} AS quantity "
        f"FROM (SELECT i, {ORDER_OF_ITEM.format(i='i')} AS o FROM generate_series(1, {s.items}) i) items) numbered"
    )
    cursor.execute(
        f"INSERT INTO cancellations_cancellationreason (id, {BASE_COLUMNS}, cancellation_type, subject, "
        'extra_information_needed, "order", is_active, send_to_remote, translations) '
        f"SELECT r, {base_values('now()')}, CASE WHEN r <= 3 THEN 'cancel' ELSE 'refund' END, "
        "(ARRAY['Changed my mind', 'Ordered by mistake', 'Found it cheaper', 'Damaged', 'Wrong size', "
        "'Not as described'])[r], false, r * 10, true, false, NULL FROM generate_series(1, 6) r"
    )

    # One row per request with everything the requests, easy returns, plans, plan items and refunds need.
    cursor.execute(
        "CREATE TEMP TABLE bench_request ON COMMIT DROP AS "
        "SELECT n, i, o, bucket, first_of_item, "
        f"'{FIRST_PLACED}'::timestamptz + (n - 1) * interval '{SPAN_DAYS} days' / {s.requests} + interval '2 days' "
        "AS created, "
        "CASE WHEN n % 2 = 0 THEN 'refund' ELSE 'cancel' END AS kind, "
        "CASE WHEN bucket < 30 AND first_of_item THEN 'waiting' WHEN bucket < 70 THEN 'rejected' "
        "WHEN bucket < 80 THEN 'approved' ELSE 'completed' END AS status, "
        f"{ITEM_PRICE.format(i='i')} AS price "
        "FROM (SELECT n, i, (n = 1 OR i <> (n - 2)::bigint * {items} / {requests} + 1) AS first_of_item, "
        "{order_of_item} AS o, {bucket} AS bucket "
        "FROM (SELECT n, (n - 1)::bigint * {items} / {requests} + 1 AS i FROM generate_series(1, {requests}) n) r"
        ") spread".format(
            items=s.items,
            requests=s.requests,
            order_of_item=ORDER_OF_ITEM.format(i="i"),
            bucket=BUCKET.format(n="n"),
        )
    )
    channel_of_order = f"o % {CHANNELS} + 1"

    def channel_column(table: str) -> tuple[str, str]:
        return (", channel_id", f", {channel_of_order}") if channel_columns[table] else ("", "")

    cursor.execute(
        f"INSERT INTO cancellations_easyreturn (id, {BASE_COLUMNS}, shipping_company, code, start_date, end_date, "
        "max_count, status, raw_request, raw_response, tracking_number, tracking_url, pickup_date) "
        f"SELECT n / 10, {base_values('created')}, (ARRAY['yurtici', 'aras', 'mng'])[1 + n % 3], "
        "'ER' || lpad(n::text, 10, '0'), created, created + interval '14 days', 1, "
        "(ARRAY['active', 'used', 'expired'])[1 + bucket % 3], '', '', 'TRK' || lpad(n::text, 10, '0'), NULL, NULL "
        "FROM bench_request WHERE n % 10 = 0"
    )
    columns, values = channel_column("cancellations_cancellationplan")
    cursor.execute(
        f"INSERT INTO cancellations_cancellationplan (id, {BASE_COLUMNS}, plan_type, status, refund_invoice_number, "
        f"forced_refund_amount, is_cargo_refund, created_by_id, order_id{columns}) "
        f"SELECT n, {base_values('created')}, kind, "
        "CASE WHEN status = 'completed' THEN 'completed' WHEN bucket < 77 THEN 'waiting' ELSE 'failed' END, "
        f"CASE WHEN status = 'completed' THEN 'INV-' || n END, NULL, false, NULL, o{values} "
        "FROM bench_request WHERE status IN ('approved', 'completed')"
    )
    plans = cursor.rowcount
    cursor.execute(
        "INSERT INTO cancellations_cancellationplanitem (id, quantity, refund_amount, discount_refund_amount, "
        "order_item_id, plan_id, reason_id) "
        "SELECT n, 1, price, 0, i, n, CASE WHEN kind = 'cancel' THEN 1 ELSE 4 END + n % 3 "
        "FROM bench_request WHERE status IN ('approved', 'completed')"
    )
    columns, values = channel_column("refunds_refund")
    refund_status = (
        "CASE WHEN status = 'completed' THEN 'succeeded' WHEN bucket < 74 THEN 'pending' "
        "WHEN bucket < 77 THEN 'processing' ELSE 'failed' END"
    )
    cursor.execute(
        f"INSERT INTO refunds_refund (id, {BASE_COLUMNS}, kind, method, amount, currency, status, attempts, "
        "last_error, gateway_reference, iban, holder_name, leased_until, settled_at, plan_id, next_attempt_at, "
        f"order_id, instructions{columns}) "
        f"SELECT n, {base_values('created')}, 'items', 'original_payment', price, 'try', refund_status, "
        "CASE refund_status WHEN 'pending' THEN 0 WHEN 'failed' THEN 5 ELSE 1 END, "
        "CASE refund_status WHEN 'failed' THEN 'sandbox_declined: the sandbox was told to refuse' ELSE '' END, "
        "CASE refund_status WHEN 'succeeded' THEN 'sandbox-' || md5(n::text) ELSE '' END, '', '', "
        "CASE refund_status WHEN 'processing' THEN now() + interval '1 day' END, "
        "CASE WHEN refund_status IN ('succeeded', 'failed') THEN created + interval '1 hour' END, "
        f"n, NULL, o, '{{}}'{values} "
        f"FROM (SELECT *, {refund_status} AS refund_status FROM bench_request "
        "WHERE status IN ('approved', 'completed')) planned"
    )
    refunds = cursor.rowcount
    columns, values = channel_column("cancellations_cancellationrequest")
    if has_column(cursor, "cancellations_cancellationrequest", "date_placed"):
        # the order's date_placed, copied onto the request (the same expression the orders were made with)
        columns, values = columns + ", date_placed", values + f", {placed.format(o='o')}"
    if has_column(cursor, "cancellations_cancellationrequest", "customer_id"):
        # the order's customer, copied onto the request (the same expression the orders were made with)
        columns, values = columns + ", customer_id", values + f", (o - 1) % {s.customers} + 1"
    cursor.execute(
        f"INSERT INTO cancellations_cancellationrequest (id, {BASE_COLUMNS}, description, cancellation_type, "
        "status, iban, holder_name, quantity, fully_refund_as_loyalty_money, cancellation_plan_id, order_item_id, "
        f"reason_id, easy_return_id{columns}) "
        f"SELECT n, {base_values('created')}, CASE WHEN bucket < 10 THEN 'Bench request ' || n END, kind, status, "
        "NULL, NULL, 1, false, CASE WHEN status IN ('approved', 'completed') THEN n END, i, "
        "CASE WHEN kind = 'cancel' THEN 1 ELSE 4 END + n % 3, CASE WHEN n % 10 = 0 THEN n / 10 END"
        f"{values} FROM bench_request"
    )
    if has_column(cursor, "cancellations_requestidceiling", "id_ceiling"):
        # The id ceilings the insert trigger keeps (it does not fire under the replica role the load runs in).
        cursor.execute(
            "INSERT INTO cancellations_requestidceiling (channel_id, day, id_ceiling) "
            "SELECT channel_id, (date_placed AT TIME ZONE 'UTC')::date, max(id) "
            "FROM cancellations_cancellationrequest GROUP BY 1, 2 "
            "ON CONFLICT (channel_id, day) DO UPDATE "
            "SET id_ceiling = GREATEST(cancellations_requestidceiling.id_ceiling, EXCLUDED.id_ceiling)"
        )
    return plans, refunds
