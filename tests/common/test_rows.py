"""List pages read from `.values()` rows (common.api.rows) answer exactly what their serializers make of instances."""

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

import common.api.pagination
from cancellations.models import CancellationPlan, CancellationPlanItem
from cancellations.selectors import cancellation_plan_list
from cancellations.serializers import CancellationPlanSerializer
from common.api.fast import FastReadMixin
from common.api.rows import RowReader
from orders.models import Customer, Order, OrderItem, Product
from orders.selectors import order_list, order_updates_list
from orders.serializers import OrderDetailSerializer
from refunds.models import Refund
from tests.factories import (
    CancellationPlanFactory,
    CancellationPlanItemFactory,
    OrderFactory,
    ProductFactory,
    RefundFactory,
    order_with_items,
)

pytestmark = pytest.mark.django_db


def _as_sent(data) -> str:
    """The JSON text, keys in their order."""
    return json.dumps(json.loads(JSONRenderer().render(data)))


@pytest.fixture
def orders_of_every_shape(channel):
    # given: nulls and values, a time off UTC with microseconds, JSON documents, an order without items
    plain = order_with_items(channel=channel, lines=[(Decimal("10.55"), 2), (Decimal("3.10"), 1)])
    plain.date_placed = datetime(2025, 3, 1, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=3)))
    plain.remote_id = "R-1"
    plain.cancel_status = "waiting"
    plain.extra_field = {"id": 7, "note": "ä", "lines": [1, {"x": None}]}
    plain.save()
    item = plain.items.order_by("id").first()
    item.product = ProductFactory(ean=None)
    item.cancel_status = "approved"
    item.extra_field = {"gift": True}
    item.save()
    empty = OrderFactory(channel=channel, date_placed=datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC))
    return [plain, empty, order_with_items(channel=channel, shipping=Decimal("9.90"))]


@pytest.fixture
def plans_of_every_shape(orders_of_every_shape):
    order = orders_of_every_shape[0]
    full = CancellationPlanFactory(order=order, refund_invoice_number="INV-1", forced_refund_amount=Decimal("5.00"))
    for item in order.items.order_by("-id"):
        CancellationPlanItemFactory(plan=full, order_item=item, refund_amount=Decimal("2.50"))
    RefundFactory(plan=full, amount=Decimal("21.10"), last_error="gateway said no", gateway_reference="G-1")
    RefundFactory(plan=full, kind="cargo", amount=Decimal("9.90"), status="succeeded", attempts=2)
    empty = CancellationPlanFactory(order=orders_of_every_shape[1], plan_type="refund", is_cargo_refund=True)
    return [full, empty]


def _expected(serializer_class, queryset) -> str:
    return _as_sent(serializer_class(list(queryset), many=True).data)


@pytest.mark.parametrize("deep", [False, True], ids=["first pages", "deep pages"])
@pytest.mark.parametrize(
    ("path", "serializer_class", "selector"),
    [
        ("/api/i1/orders/", OrderDetailSerializer, order_list),
        ("/api/channel/{channel}/orders/", OrderDetailSerializer, order_list),
        ("/api/i1/cancellation_plans/", CancellationPlanSerializer, cancellation_plan_list),
        ("/api/channel/{channel}/cancellation_plans/", CancellationPlanSerializer, cancellation_plan_list),
    ],
)
def test_list_pages_are_what_the_serializer_makes_of_instances(
    staff_client, channel, plans_of_every_shape, monkeypatch, deep, path, serializer_class, selector
):
    if deep:
        # every page selects its ids first, as pages past SHALLOW_PAGES do
        monkeypatch.setattr(common.api.pagination, "SHALLOW_PAGES", 0)
    url = path.format(channel=channel.pk)

    whole = staff_client.get(url, {"limit": 100}).json()["results"]
    second = staff_client.get(url, {"limit": 1, "page": 2}).json()["results"]

    assert _as_sent(whole) == _expected(serializer_class, selector())
    assert _as_sent(second) == _expected(serializer_class, selector()[1:2])
    assert {len(row["items"]) for row in whole} == ({0, 1, 2} if "orders" in url else {0, 2})


def test_the_orders_a_channel_has_not_received_are_what_the_serializer_makes_of_instances(
    channel_client, channel, orders_of_every_shape
):
    rows = channel_client.get(f"/api/channel/{channel.pk}/orders/updates/", {"limit": 100}).json()["results"]

    assert [row["id"] for row in rows] == sorted(order.pk for order in orders_of_every_shape)
    assert _as_sent(rows) == _expected(OrderDetailSerializer, order_updates_list(channel_id=channel.pk))


@pytest.mark.parametrize("deep", [False, True], ids=["first pages", "deep pages"])
@pytest.mark.parametrize(
    "path", ["/api/i1/orders/", "/api/i1/cancellation_plans/", "/api/channel/{channel}/orders/updates/"]
)
def test_list_pages_make_no_model_instance_of_their_rows(
    staff_client, channel, plans_of_every_shape, monkeypatch, deep, path
):
    if deep:
        monkeypatch.setattr(common.api.pagination, "SHALLOW_PAGES", 0)

    def refuse(cls, *args, **kwargs):
        raise AssertionError(f"a {cls.__name__} instance was made")

    for model in (Order, OrderItem, Customer, Product, CancellationPlan, CancellationPlanItem, Refund):
        monkeypatch.setattr(model, "from_db", classmethod(refuse))

    assert len(staff_client.get(path.format(channel=channel.pk)).json()["results"]) >= 2


def test_orders_come_out_as_the_contract_writes_them(staff_client, orders_of_every_shape):
    row = staff_client.get("/api/i1/orders/", {"limit": 100}).json()["results"][-1]

    assert row["date_placed"] == "2025-03-01T09:30:05.123456Z"
    assert row["extra_field"] == {"id": 7, "note": "ä", "lines": [1, {"x": None}]}
    assert row["items"][0]["product"]["ean"] is None
    assert row["items"][0]["price"] == "10.55"
    assert list(row)[:4] == ["id", "pk", "number", "remote_id"]


@pytest.mark.parametrize("path", ["/api/i1/orders/", "/api/i1/cancellation_plans/"])
def test_list_queries_are_the_same_for_1_10_and_100_rows(staff_client, channel, path, django_assert_max_num_queries):
    counts = []
    made = 0
    for size in (1, 10, 100):
        for _ in range(made, size):
            order = order_with_items(channel=channel, lines=[(Decimal("10.00"), 1), (Decimal("5.00"), 2)])
            plan = CancellationPlanFactory(order=order)
            CancellationPlanItemFactory(plan=plan, order_item=order.items.first())
            RefundFactory(plan=plan)
        made = size
        with django_assert_max_num_queries(10) as captured:
            assert staff_client.get(path, {"limit": 100}).json()["count"] == size
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1] == counts[2], counts


def test_a_page_past_the_rows_reads_no_nested_list(staff_client, django_assert_num_queries):
    assert Order.objects.count() == 0
    with django_assert_num_queries(2):  # the token, the page
        assert staff_client.get("/api/i1/orders/").json()["results"] == []


def test_a_field_it_cannot_read_from_a_row_is_refused():
    class ComputedSerializer(FastReadMixin, serializers.ModelSerializer):
        label = serializers.SerializerMethodField()

        class Meta:
            model = Order
            fields = ("id", "label")

        def get_label(self, order) -> str:
            return order.number

    with pytest.raises(ImproperlyConfigured, match=r"ComputedSerializer\.label"):
        RowReader(ComputedSerializer())


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("2025-03-01 09:30:05.12+00", "2025-03-01T09:30:05.120000Z"),  # PostgreSQL's, trailing zeros dropped
        ("2025-03-01 09:30:05+00", "2025-03-01T09:30:05.000000Z"),
        ("2025-03-01 09:30:05.123456", "2025-03-01T09:30:05.123456Z"),  # SQLite's, stored in UTC
        ("2025-03-01 12:30:05.5+03", "2025-03-01T09:30:05.500000Z"),  # another session time zone: parsed
        ("0269-01-01 00:00:00+00", "0269-01-01T00:00:00.000000Z"),
    ],
)
def test_a_timestamp_read_as_text_is_written_as_the_field_writes_it(text, written):
    field = CancellationPlanSerializer().fields["created_date"]
    reader = RowReader(CancellationPlanSerializer())
    (convert,) = [convert for name, _, convert, _ in reader.steps if name == "created_date"]

    assert convert(text) == written == field.to_representation(parse_datetime(text))
