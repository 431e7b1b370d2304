"""The changelists of the big tables stay fast at a million rows.

- Each issues the same number of queries for 10 rows as for 100, pinned to a number.
- None runs a query that reads a whole big table: no DISTINCT (a filter gathering its choices), no COUNT(*) without
  a LIMIT, no date hierarchy; on PostgreSQL, no sequential scan of a big table in the plan of any of its queries
  (EXPLAIN with sequential scans priced out, so that only a missing index leaves one).
- Every filter choice, search and sortable column still loads.
"""

import re
from datetime import timedelta
from decimal import Decimal
from functools import partial
from unittest import mock

import factory
import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cancellations.models import (
    CancellationPlan,
    CancellationPlanItem,
    CancellationQuote,
    CancellationReason,
    CancellationRequest,
    EasyReturn,
)
from channels.models import BatchRequest, Channel, IntegrationAction
from common.admin import LargeTableMixin
from common.models import IdempotencyRecord
from orders.models import Customer, Order, OrderEvent, OrderItem, Product
from refunds.models import BankTransfer, LoyaltyTransaction, Refund
from storefront.models import StorefrontSync
from tests import factories
from webhooks.models import WebhookAttempt, WebhookDelivery

LARGE_TABLE_MODELS = sorted(
    (model for model, model_admin in admin.site._registry.items() if isinstance(model_admin, LargeTableMixin)),
    key=lambda model: model._meta.label,
)
BIG_TABLES = {model._meta.db_table for model in LARGE_TABLE_MODELS}

# Rows with related rows of their own each, so that a query per row would show.
CREATE_ROWS = {
    CancellationRequest: partial(
        factories.CancellationRequestFactory.create_batch,
        easy_return=factory.SubFactory(factories.EasyReturnFactory),
        cancellation_plan=factory.SubFactory(factories.CancellationPlanFactory),
    ),
    Order: factories.OrderFactory.create_batch,
    OrderItem: factories.OrderItemFactory.create_batch,
    OrderEvent: partial(factories.OrderEventFactory.create_batch, actor=factory.SubFactory(factories.UserFactory)),
    Customer: factories.CustomerFactory.create_batch,
    CancellationPlan: partial(
        factories.CancellationPlanFactory.create_batch, created_by=factory.SubFactory(factories.UserFactory)
    ),
    CancellationPlanItem: partial(
        factories.CancellationPlanItemFactory.create_batch,
        reason=factory.SubFactory(factories.CancellationReasonFactory),
    ),
    CancellationQuote: partial(
        factories.CancellationQuoteFactory.create_batch,
        created_by=factory.SubFactory(factories.UserFactory),
        plan=factory.SubFactory(factories.CancellationPlanFactory),
    ),
    EasyReturn: factories.EasyReturnFactory.create_batch,
    Refund: factories.RefundFactory.create_batch,
    BankTransfer: factories.BankTransferFactory.create_batch,
    LoyaltyTransaction: partial(
        factories.LoyaltyTransactionFactory.create_batch, refund=factory.SubFactory(factories.RefundFactory)
    ),
    IntegrationAction: factories.IntegrationActionFactory.create_batch,
    BatchRequest: factories.BatchRequestFactory.create_batch,
    IdempotencyRecord: factories.IdempotencyRecordFactory.create_batch,
    StorefrontSync: factories.StorefrontSyncFactory.create_batch,
    WebhookDelivery: factories.WebhookDeliveryFactory.create_batch,
    WebhookAttempt: factories.WebhookAttemptFactory.create_batch,
}

# Session, user, each filter's choices from a small table, the capped count with the page's ids (one query), its
# rows, and one query per prefetched relation (none for a small table a filter lists).
CHANGELIST_QUERIES = {
    CancellationRequest: 6,  # filters: channels, reasons (whose rows also serve the page's channel and reason)
    Order: 5,  # filters: channels
    OrderItem: 5,  # filters: channels
    OrderEvent: 4,
    Customer: 5,  # filters: channels
    CancellationPlan: 5,  # filters: channels
    CancellationPlanItem: 5,  # filters: reasons
    CancellationQuote: 4,
    EasyReturn: 4,
    Refund: 5,  # filters: channels
    BankTransfer: 4,
    LoyaltyTransaction: 5,  # filters: channels
    IntegrationAction: 5,  # filters: channels
    BatchRequest: 5,  # filters: channels
    IdempotencyRecord: 4,
    StorefrontSync: 5,  # filters: channels
    WebhookDelivery: 5,  # filters: channels
    WebhookAttempt: 4,
}

# Filters on a column no index holds, kept because ops use them; each needs the index named to be served. A choice
# that many rows have is still quick (the page walks the primary key until it has its rows); one that few or none
# have reads the whole table.
UNINDEXED_FILTERS = {
    (Order, "payment_option"): "Index(fields=['payment_option', '-id'])",
    (CancellationPlan, "is_cargo_refund"): "Index(fields=['is_cargo_refund', '-id'])",
    (EasyReturn, "status"): "Index(fields=['status', '-id'])",
    (BatchRequest, "content_type"): "Index(fields=['channel', 'content_type', '-id'])",
    (IdempotencyRecord, "state"): "Index(fields=['state', '-id'])",
    (IdempotencyRecord, "response"): "Index(fields=['response_status', '-id'])",
}

# A query that reads a big table (FROM or JOIN it).
BIG_TABLE_READ = re.compile(
    r'\b(?:FROM|JOIN) "(?:' + "|".join(re.escape(table) for table in sorted(BIG_TABLES)) + r')"', re.IGNORECASE
)
# What the date hierarchy runs: MIN/MAX of the column, then a DISTINCT over its truncated values.
DATE_HIERARCHY_SQL = re.compile(r"\b(DATE_TRUNC|django_datetime_trunc|django_date_trunc|MIN|MAX)\(", re.IGNORECASE)


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def capture(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return response, [query["sql"] for query in queries.captured_queries]


def changelist_variants(client, model) -> list[tuple[str, str | None]]:
    """The changelist, two searches, every choice of every filter and every sortable column both ways, each with
    the parameter of the filter it applies (None for the others)."""
    url = changelist_url(model)
    changelist = client.get(url).context["cl"]
    variants = [(url, None), (f"{url}?q=ORD-000001", None), (f"{url}?q=42", None)]
    for spec in changelist.filter_specs:
        parameter = getattr(spec, "field_path", None) or spec.parameter_name
        variants += [
            (url + choice["query_string"], parameter) for choice in spec.choices(changelist) if not choice["selected"]
        ]
    sortable = admin.site._registry[model].sortable_by
    for index, name in enumerate(changelist.list_display):
        if name in sortable:
            variants += [(f"{url}?o={index}", None), (f"{url}?o=-{index}", None)]
    return variants


@pytest.fixture
def superuser_client(staff):
    client = Client()
    client.force_login(staff)
    return client


def test_every_big_table_has_a_large_table_admin():
    big = {
        CancellationRequest,
        Order,
        OrderItem,
        OrderEvent,
        CancellationPlan,
        CancellationPlanItem,
        Refund,
        BankTransfer,
        LoyaltyTransaction,
        IntegrationAction,
        BatchRequest,
        IdempotencyRecord,
    }

    assert big <= set(LARGE_TABLE_MODELS)
    assert set(CREATE_ROWS) == set(CHANGELIST_QUERIES) == set(LARGE_TABLE_MODELS)


@pytest.mark.parametrize("model", LARGE_TABLE_MODELS, ids=lambda model: model._meta.label)
def test_large_table_admin_settings(model):
    model_admin = admin.site._registry[model]
    list_filters = [spec[1] if isinstance(spec, tuple) else spec for spec in model_admin.list_filter]

    assert model_admin.date_hierarchy is None
    assert model_admin.show_full_result_count is False
    assert model_admin.show_facets is admin.ShowFacets.NEVER
    assert admin.RelatedOnlyFieldListFilter not in list_filters
    assert admin.AllValuesFieldListFilter not in list_filters
    assert set(model_admin.sortable_by) <= set(model_admin.list_display)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "expected_queries"), CHANGELIST_QUERIES.items(), ids=lambda value: getattr(value, "__name__", "")
)
def test_changelist_issues_the_same_pinned_queries_for_10_and_100_rows(superuser_client, model, expected_queries):
    # given
    CREATE_ROWS[model](100)
    url = changelist_url(model)
    superuser_client.get(url)  # the first request of a session also loads what later ones find cached

    # when
    with mock.patch.object(admin.site._registry[model], "list_per_page", 10):
        ten, ten_queries = capture(superuser_client, url)
    hundred, hundred_queries = capture(superuser_client, url)

    # then
    assert len(ten.context["cl"].result_list) == 10
    assert len(hundred.context["cl"].result_list) == 100
    # PostgreSQL: and the planner's estimate of the list's length (a long list is not counted)
    expected_queries += connection.vendor == "postgresql"
    assert len(ten_queries) == len(hundred_queries) == expected_queries, "\n".join(hundred_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("model", LARGE_TABLE_MODELS, ids=lambda model: model._meta.label)
def test_no_changelist_query_gathers_counts_or_dates_over_the_whole_table(superuser_client, model):
    CREATE_ROWS[model](3)

    for url, _ in changelist_variants(superuser_client, model):
        _, queries = capture(superuser_client, url)

        for sql in queries:
            if sql.startswith("EXPLAIN "):
                continue  # the planner's estimate of the list's length: it reads no row
            assert "SELECT DISTINCT" not in sql, f"{url}: {sql}"
            assert "COUNT(" not in sql or "LIMIT" in sql, f"{url}: {sql}"
            assert not DATE_HIERARCHY_SQL.search(sql), f"{url}: {sql}"
            # A read of a big table is bounded: a page (LIMIT) or the page's rows by key (IN).
            if BIG_TABLE_READ.search(sql):
                assert "LIMIT" in sql or " IN (" in sql, f"{url} reads a whole big table: {sql}"


def populate(rows: int = 2000) -> None:
    """A few thousand rows in every big table, spread over channels, statuses and days."""
    now = timezone.now()
    users = get_user_model().objects.bulk_create(get_user_model()(username=f"scale{n}") for n in range(20))
    channels = Channel.objects.bulk_create(Channel(name=f"Scale {n}") for n in range(8))
    reasons = CancellationReason.objects.bulk_create(
        CancellationReason(cancellation_type="cancel", subject=f"Scale {n}") for n in range(4)
    )
    products = Product.objects.bulk_create(Product(sku=f"SCALE-{n:04d}", name=f"P{n}") for n in range(rows // 10))
    customers = Customer.objects.bulk_create(
        Customer(channel=channels[n % 8], email=f"scale{n}@example.com") for n in range(rows // 4)
    )
    orders = Order.objects.bulk_create(
        Order(
            channel=customers[n % len(customers)].channel,
            customer=customers[n % len(customers)],
            number=f"SCALE-{n:06d}",
            date_placed=now - timedelta(hours=n),
            status=("400", "500", "550", "100")[n % 4],
            cancel_status=(None, "waiting", "approved", "confirmed", "rejected")[n % 5],
            currency="try",
            amount=Decimal("10.00"),
            payment_option=("credit_card", "funds_transfer", "loyalty_money", "financing")[n % 4],
        )
        for n in range(rows)
    )
    items = OrderItem.objects.bulk_create(
        OrderItem(
            order=order,
            product=products[n % len(products)],
            quantity=1,
            price=Decimal("10.00"),
            amount=Decimal("10.00"),
            status=order.status,
        )
        for n, order in enumerate(orders)
    )
    OrderEvent.objects.bulk_create(
        OrderEvent(order=order, type=("order_created", "refund_failed")[n % 2], actor=users[n % 20])
        for n, order in enumerate(orders)
    )
    easy_returns = EasyReturn.objects.bulk_create(
        EasyReturn(shipping_company="yurtici", code=f"SC{n:05d}", start_date=now, end_date=now)
        for n in range(rows // 2)
    )
    plans = CancellationPlan.objects.bulk_create(
        CancellationPlan(
            order=order,
            channel=order.channel,
            plan_type=("cancel", "refund")[n % 2],
            status=("waiting", "completed", "failed")[n % 3],
            is_cargo_refund=n % 10 == 0,
            refund_invoice_number=f"INV-{n}",
            created_by=users[n % 20],
        )
        for n, order in enumerate(orders[: rows // 2])
    )
    CancellationPlanItem.objects.bulk_create(
        CancellationPlanItem(plan=plan, order_item=item, reason=reasons[n % 4], quantity=1)
        for n, (plan, item) in enumerate(zip(plans, items, strict=False))
    )
    CancellationRequest.objects.bulk_create(
        CancellationRequest(
            order_item=item,
            channel=item.order.channel,
            date_placed=item.order.date_placed,
            customer_id=item.order.customer_id,
            reason=reasons[n % 4],
            cancellation_type=("cancel", "refund")[n % 2],
            status=("waiting", "approved", "rejected", "completed")[n % 4],
            quantity=1,
            cancellation_plan=plans[n // 2] if n % 2 == 0 else None,
            easy_return=easy_returns[n // 2] if n % 2 == 1 else None,
        )
        for n, item in enumerate(items)
    )
    refunds = Refund.objects.bulk_create(
        Refund(
            order=plan.order,
            channel=plan.channel,
            plan=plan,
            kind="items",
            method=("original_payment", "funds_transfer", "loyalty_money")[n % 3],
            amount=Decimal("10.00"),
            currency="try",
            status=("pending", "processing", "succeeded", "failed")[n % 4],
            iban="DE89370400440532013000",
            holder_name="Ayse Yilmaz",
        )
        for n, plan in enumerate(plans)
    )
    BankTransfer.objects.bulk_create(
        BankTransfer(
            refund=refund,
            iban=refund.iban,
            holder_name=refund.holder_name,
            amount=refund.amount,
            currency="try",
            reference=f"SCALE-BT-{refund.pk}",
            status=("pending", "exported", "paid")[n % 3],
        )
        for n, refund in enumerate(refunds)
        if refund.method == "funds_transfer"
    )
    LoyaltyTransaction.objects.bulk_create(
        LoyaltyTransaction(customer=refund.order.customer, amount=refund.amount, currency="try", refund=refund)
        for refund in refunds
        if refund.method == "loyalty_money"
    )
    CancellationQuote.objects.bulk_create(
        CancellationQuote(
            order=order,
            body_fingerprint="0" * 64,
            order_version=now,
            quote={},
            expires_at=now + timedelta(minutes=15),
        )
        for order in orders[: rows // 4]
    )
    IntegrationAction.objects.bulk_create(
        IntegrationAction(
            channel=channels[n % 8],
            content_type=("order", "orderitem", "cancellationrequest")[n % 3],
            object_id=n + 1,
            remote_id=f"R{n}",
        )
        for n in range(rows)
    )
    BatchRequest.objects.bulk_create(
        BatchRequest(channel=channels[n % 8], status=("initialized", "commit", "done", "fail")[n % 4])
        for n in range(rows // 2)
    )
    IdempotencyRecord.objects.bulk_create(
        IdempotencyRecord(
            user=users[n % 20],
            key=f"scale-{n}",
            fingerprint="0" * 64,
            state=("in_flight", "done")[n % 2],
            response_status=(200, 400, 500)[n % 3],
        )
        for n in range(rows)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_index_serves_every_changelist_query(superuser_client):
    # given
    populate()
    with connection.cursor() as cursor:
        # Forbid the sequential scans a small table would rightly get, to see which queries no index can serve.
        cursor.execute("SET LOCAL enable_seqscan = off")

    # when
    unserved = []
    for model in LARGE_TABLE_MODELS:
        for url, parameter in changelist_variants(superuser_client, model):
            if (model, parameter) in UNINDEXED_FILTERS:
                continue
            _, queries = capture(superuser_client, url)
            for sql in queries:
                if sql.startswith("EXPLAIN "):
                    continue  # the list's estimate: planned, never run
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN {sql}")
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                scanned = sorted(table for table in BIG_TABLES if re.search(rf"Seq Scan on {table}\b", plan))
                if scanned:
                    unserved.append(f"{url} scans {', '.join(scanned)}:\n{sql}\n{plan}")

    # then
    assert not unserved, "\n\n".join(unserved)
