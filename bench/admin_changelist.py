"""The admin lists 10,000 orders without a query per row.

Seeds 10,000 orders of two items each, then requests the order changelist (first page, a deep page, searches), the
same changelist with 10 rows a page, and the back-office order API at 10 and 100 rows. For each it prints the rows
shown, the SQL queries, the median wall time of several runs and the peak Python memory of one request.
"""

import statistics
import time
import tracemalloc
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from unittest import mock

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from channels.models import Channel
from orders.models import CancelStatus, Customer, Order, OrderItem, OrderStatus, Product

ORDER_COUNT = 10_000
PRODUCT_COUNT = 200
TIMED_RUNS = 5
BATCH_SIZE = 1_000
STATUSES = [OrderStatus.APPROVED, OrderStatus.PREPARING, OrderStatus.SHIPPED, OrderStatus.DELIVERED]
CANCEL_STATUSES = [None, None, None, CancelStatus.WAITING, CancelStatus.CONFIRMED]


@dataclass
class Figures:
    page: str
    rows: int
    queries: int
    median_ms: float
    peak_kib: float


def seed() -> None:
    channel = Channel.objects.create(name="Bench web shop")
    products = Product.objects.bulk_create(
        Product(sku=f"BENCH-{n:04d}", name=f"Bench product {n}") for n in range(PRODUCT_COUNT)
    )
    customers = Customer.objects.bulk_create(
        (
            Customer(channel=channel, email=f"customer{n}@example.com", first_name="Ayse", last_name=f"Yilmaz {n}")
            for n in range(ORDER_COUNT)
        ),
        batch_size=BATCH_SIZE,
    )
    first_placed = timezone.now() - timedelta(days=730)
    lines_per_order = [[(Decimal(100 + n % 50), 1), (Decimal(20 + n % 7), 1 + n % 3)] for n in range(ORDER_COUNT)]
    orders = Order.objects.bulk_create(
        (
            Order(
                channel=channel,
                customer=customer,
                number=f"BENCH-{n:06d}",
                # Two years of orders, so the date hierarchy has years to offer.
                date_placed=first_placed + timedelta(minutes=105 * n),
                status=STATUSES[n % len(STATUSES)],
                cancel_status=CANCEL_STATUSES[n % len(CANCEL_STATUSES)],
                currency="try",
                amount=sum(price * quantity for price, quantity in lines),
                payment_option="credit_card",
                payment_reference=f"TX-{n}",
            )
            for n, (customer, lines) in enumerate(zip(customers, lines_per_order, strict=True))
        ),
        batch_size=BATCH_SIZE,
    )
    OrderItem.objects.bulk_create(
        (
            OrderItem(
                order=order,
                product=products[(n + line) % PRODUCT_COUNT],
                price=price,
                quantity=quantity,
                amount=price * quantity,
            )
            for n, (order, lines) in enumerate(zip(orders, lines_per_order, strict=True))
            for line, (price, quantity) in enumerate(lines)
        ),
        batch_size=BATCH_SIZE,
    )


def measure(client, url: str, count_rows, label: str | None = None) -> Figures:
    def request():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        return response

    response = request()  # warm-up: templates compiled, caches filled, as in a long-running server
    with CaptureQueriesContext(connection) as queries:
        request()
    # Read now: the log is cleared when the next request starts.
    query_count = len(queries.captured_queries)
    timings = []
    for _ in range(TIMED_RUNS):
        started = time.perf_counter()
        request()
        timings.append(time.perf_counter() - started)
    tracemalloc.start()
    try:
        request()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Figures(
        page=label or url,
        rows=count_rows(response),
        queries=query_count,
        median_ms=statistics.median(timings) * 1000,
        peak_kib=peak / 1024,
    )


def admin_rows(response) -> int:
    return len(response.context["cl"].result_list)


def api_rows(response) -> int:
    return len(response.json()["results"])


def print_table(figures: list[Figures]) -> None:
    width = max(len(row.page) for row in figures)
    print(f"{'page':<{width}} {'rows':>5} {'queries':>8} {'median ms':>10} {'peak KiB':>9}")
    for row in figures:
        print(f"{row.page:<{width}} {row.rows:>5} {row.queries:>8} {row.median_ms:>10.1f} {row.peak_kib:>9.0f}")


def run() -> bool:
    """Print the figures; return whether the query counts stay the same however many rows a page shows."""
    started = time.perf_counter()
    seed()
    user = get_user_model().objects.create(username="bench-ops", is_staff=True, is_superuser=True)
    admin_client = Client()
    admin_client.force_login(user)
    api_client = APIClient()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    print(
        f"admin changelist: {Order.objects.count():,} orders, {OrderItem.objects.count():,} items "
        f"on {connection.vendor}, seeded in {time.perf_counter() - started:.1f} s"
    )

    changelist = "/admin/orders/order/"
    admin_full = measure(admin_client, changelist, admin_rows)
    figures = [
        admin_full,
        measure(admin_client, f"{changelist}?p=50", admin_rows),
        measure(admin_client, f"{changelist}?q=BENCH-004321", admin_rows),
        measure(admin_client, f"{changelist}?q=customer4321@example.com", admin_rows),
    ]
    with mock.patch.object(admin.site._registry[Order], "list_per_page", 10):
        admin_small = measure(admin_client, changelist, admin_rows, label=f"{changelist} (list_per_page=10)")
    api_small = measure(api_client, "/api/i1/orders/?limit=10", api_rows)
    api_full = measure(api_client, "/api/i1/orders/?limit=100", api_rows)
    print_table([*figures, admin_small, api_small, api_full])

    is_admin_flat = admin_full.queries == admin_small.queries
    is_api_flat = api_small.queries == api_full.queries
    print(
        f"admin changelist queries independent of rows shown: {'yes' if is_admin_flat else 'NO'} "
        f"({admin_small.rows} rows: {admin_small.queries}, {admin_full.rows} rows: {admin_full.queries})"
    )
    print(
        f"order API queries independent of rows shown: {'yes' if is_api_flat else 'NO'} "
        f"({api_small.rows} rows: {api_small.queries}, {api_full.rows} rows: {api_full.queries})"
    )
    print(f"total {time.perf_counter() - started:.1f} s")
    return is_admin_flat and is_api_flat
