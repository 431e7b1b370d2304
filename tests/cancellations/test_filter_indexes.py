"""Every filter of the cancellation-request lists is served by an index on PostgreSQL."""

import random
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from cancellations.filters import CancellationRequestFilter
from cancellations.models import CancellationPlan, CancellationReason, CancellationRequest, EasyReturn
from cancellations.selectors import cancellation_request_list
from channels.models import Channel
from orders.models import Customer, Order, OrderItem, Product

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# filter -> the column an index must serve (as it appears in the plan's index or recheck condition)
FILTERS = {
    "pk__in=11,12": "id",
    # status=waiting is served by the partial unique index one_waiting_request_per_item
    "status=rejected": "status",
    "number=ORD-00042": "number",
    "date_placed={moment}": "date_placed",
    "date_placed__gt={moment}": "date_placed",
    "date_placed__gte={moment}": "date_placed",
    "date_placed__lt={moment}": "date_placed",
    "date_placed__lte={moment}": "date_placed",
    "date_placed__date__gt={day}": "date_placed",
    "date_placed__date__gte={day}": "date_placed",
    "date_placed__date__lt={day}": "date_placed",
    "date_placed__date__lte={day}": "date_placed",
    "sku=SKU-0042": "sku",
    "channel={channel}": "channel_id",
    "customer_first_name=First42": "first_name",
    "customer_last_name=Last42": "last_name",
    "customer_email=c42@example.com": "email",
    "order_id=42": "order_id",
    "cancellation_plan_status=failed": "status",
    "easy_return_code=ER0042": "code",
    "tracking_number=TRK-0042": "tracking_number",
}


def populate(rows: int = 3000) -> Channel:
    """Enough rows, spread over channels, customers and days, for the planner to choose by selectivity."""
    rng = random.Random(7)
    now = timezone.now()
    channels = Channel.objects.bulk_create([Channel(name=f"C{n}") for n in range(8)])
    customers = Customer.objects.bulk_create(
        [
            Customer(channel=channels[n % 8], email=f"c{n}@example.com", first_name=f"First{n}", last_name=f"Last{n}")
            for n in range(rows // 4)
        ]
    )
    products = Product.objects.bulk_create([Product(sku=f"SKU-{n:04d}", name=f"P{n}") for n in range(rows // 10)])
    orders = Order.objects.bulk_create(
        [
            Order(
                channel=channels[n % 8],
                customer=customers[n % len(customers)],
                number=f"ORD-{n:05d}",
                date_placed=now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365)),
                currency="try",
                amount=Decimal("10.00"),
                payment_option="credit_card",
            )
            for n in range(rows)
        ]
    )
    items = OrderItem.objects.bulk_create(
        [
            OrderItem(
                order=order,
                product=products[n % len(products)],
                quantity=1,
                price=Decimal("10.00"),
                amount=Decimal("10.00"),
            )
            for n, order in enumerate(orders)
        ]
    )
    reason = CancellationReason.objects.create(cancellation_type="cancel", subject="R")
    plans = CancellationPlan.objects.bulk_create(
        [
            CancellationPlan(
                order=orders[n],
                channel_id=orders[n].channel_id,
                plan_type="cancel",
                status=("waiting", "completed", "failed")[n % 3],
            )
            for n in range(0, rows, 2)
        ]
    )
    easy_returns = EasyReturn.objects.bulk_create(
        [
            EasyReturn(
                shipping_company="yurtici",
                code=f"ER{n:04d}",
                tracking_number=f"TRK-{n:04d}",
                start_date=now,
                end_date=now,
            )
            for n in range(rows // 2)
        ]
    )
    channel_of_order = {order.pk: order.channel_id for order in orders}
    placed_of_order = {order.pk: order.date_placed for order in orders}
    customer_of_order = {order.pk: order.customer_id for order in orders}
    CancellationRequest.objects.bulk_create(
        [
            CancellationRequest(
                order_item=item,
                channel_id=channel_of_order[item.order_id],
                date_placed=placed_of_order[item.order_id],
                customer_id=customer_of_order[item.order_id],
                reason=reason,
                cancellation_type="cancel",
                quantity=1,
                status=("waiting", "approved", "rejected", "completed")[n % 4],
                cancellation_plan=plans[n // 2] if n % 2 == 0 else None,
                easy_return=easy_returns[n // 2] if n % 2 == 1 else None,
            )
            for n, item in enumerate(items)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return channels[0]


def test_every_filter_is_served_by_an_index():
    channel = populate()
    moment = (timezone.now() - timedelta(days=3)).isoformat().replace("+00:00", "Z")
    day = (timezone.now() - timedelta(days=3)).date().isoformat()
    assert {query.split("=")[0] for query in FILTERS} == set(CancellationRequestFilter.base_filters)

    unserved = []
    for template, column in FILTERS.items():
        query = template.format(moment=moment, day=day, channel=channel.pk)
        filterset = CancellationRequestFilter(
            QueryDict(query), queryset=cancellation_request_list(channel_id=channel.pk)
        )
        assert filterset.is_valid(), filterset.errors
        sql, params = filterset.qs.query.sql_with_params()
        with connection.cursor() as cursor:
            # Forbid the sequential scans a small table would rightly get, to see which index the filter can use.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        lines = plan.splitlines()
        served = any(
            re.search(r"(Index Cond|Recheck Cond)", line) and re.search(rf"\b{column}\b", line) for line in lines
        ) or any(
            # a column of the request row itself, checked on the rows an index of the request table found (the
            # channel's): no join and no scan of other rows is needed, whatever share of the channel matches
            line.strip().startswith("Filter:")
            and re.search(rf"\b{column}\b", line)
            and re.search(
                r"(Index Scan|Index Only Scan|Bitmap Heap Scan) .*on cancellations_cancellationrequest",
                next((above for above in reversed(lines[:number]) if "Scan" in above), ""),
            )
            for number, line in enumerate(lines)
        )
        if not served or "Seq Scan" in plan:
            unserved.append(f"{query}\n{plan}")
    assert not unserved, "\n\n".join(unserved)
