"""Order cancellation: time and SQL queries of `POST /api/i1/orders/{id}/cancel/` and of the cancellation-request
lists.

Cancels 200 orders of three items each over the API (tasks in-process, so each call also runs its refunds through
the sandbox gateway and the plan bookkeeping), then lists 100 cancellation requests in both shapes. Prints the
median and 95th percentile time per call, the queries per call, and whether the queries depend on the rows.
"""

import statistics
import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cancellations.models import CancellationReason, CancellationRequest
from channels.models import Channel
from omnitron.celery import app
from orders.models import Customer, Order, OrderItem, Product

ORDERS = 200
REQUESTS = 100


def _seed(channel, count, prefix):
    customer = Customer.objects.create(channel=channel, email=f"{prefix}@example.com")
    products = [Product.objects.get_or_create(sku=f"{prefix}-P{n}", defaults={"name": f"P{n}"})[0] for n in range(3)]
    orders = Order.objects.bulk_create(
        [
            Order(
                channel=channel,
                customer=customer,
                number=f"{prefix}-{n:05d}",
                date_placed=timezone.now(),
                currency="try",
                amount=Decimal("119.90"),
                discount_amount=Decimal("10.00"),
                shipping_amount=Decimal("9.90"),
                payment_option="credit_card",
                payment_reference=f"TX-{n}",
            )
            for n in range(count)
        ]
    )
    OrderItem.objects.bulk_create(
        [
            OrderItem(
                order=order,
                product=product,
                quantity=1,
                price=Decimal(price),
                discount_amount=Decimal(share),
                amount=Decimal(price) - Decimal(share),
            )
            for order in orders
            for product, price, share in zip(
                products, ("50.00", "30.00", "40.00"), ("4.17", "2.50", "3.33"), strict=True
            )
        ]
    )
    return orders


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def run() -> bool:
    previous_eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        return _run()
    finally:
        app.conf.task_always_eager = previous_eager


def _run() -> bool:
    channel = Channel.objects.create(name="Bench cancellations")
    staff = get_user_model().objects.create(username="bench-cancel", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    reason = CancellationReason.objects.create(cancellation_type="cancel", subject="Bench")
    orders = _seed(channel, ORDERS, "CXL")
    item_ids = {o.pk: list(OrderItem.objects.filter(order=o).values_list("pk", flat=True)) for o in orders}

    timings, queries = [], []
    for order in orders:
        body = {"is_all": True, "reasons": {str(i): reason.pk for i in item_ids[order.pk]}}
        connection.queries_log.clear()  # the log keeps 9,000 queries; a full one would capture nothing
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.post(f"/api/i1/orders/{order.pk}/cancel/", body, format="json")
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content
        queries.append(len(captured.captured_queries))
    completed = Order.objects.filter(channel=channel, status="100", refund_amount=Decimal("119.90")).count()

    print(f"\norder cancellation on {connection.vendor}: {ORDERS} full cancels, 3 items each, refunds run in-process")
    print(f"{'call':<48}{'median ms':>10}{'p95 ms':>9}{'queries':>9}")
    print(
        f"{'POST /api/i1/orders/{id}/cancel/ (is_all)':<48}{statistics.median(timings):>10.1f}"
        f"{_percentile(timings, 0.95):>9.1f}{statistics.median(queries):>9.0f}"
    )
    print(f"orders cancelled and fully refunded: {completed}/{ORDERS}")

    request_orders = _seed(channel, REQUESTS, "REQ")
    CancellationRequest.objects.bulk_create(
        [
            CancellationRequest(
                order_item=OrderItem.objects.filter(order=order).first(),
                channel=channel,
                date_placed=order.date_placed,
                customer_id=order.customer_id,
                reason=reason,
                cancellation_type="cancel",
                quantity=1,
            )
            for order in request_orders
        ]
    )
    flat = True
    for shape in ("", "detailed/"):
        counts = {}
        for limit in (10, 100):
            path = f"/api/channel/{channel.pk}/cancellation_requests/{shape}?limit={limit}"
            connection.queries_log.clear()  # the log keeps 9,000 queries; a full one would capture nothing
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(path)
                elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200
            counts[limit] = len(captured.captured_queries)
            label = f"GET cancellation_requests/{shape}?limit={limit}"
            print(f"{label:<48}{elapsed:>10.1f}{'':>9}{counts[limit]:>9}")
        flat = flat and counts[10] == counts[100]
    print(f"request list queries independent of rows shown: {'yes' if flat else 'NO'}")
    return flat and completed == ORDERS
