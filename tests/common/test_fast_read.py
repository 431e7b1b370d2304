"""The fast read path of the serializers gives exactly what DRF's own to_representation gives."""

import inspect
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from rest_framework import serializers

import cancellations.serializers
import orders.serializers
from cancellations.models import CancellationRequest
from cancellations.selectors import cancellation_plan_list, cancellation_request_list, with_channel
from common.api.fast import FastReadMixin
from orders.models import Order, OrderItem
from tests.factories import (
    CancellationPlanFactory,
    CancellationPlanItemFactory,
    CancellationRequestFactory,
    EasyReturnFactory,
    RefundFactory,
    order_with_items,
)

pytestmark = pytest.mark.django_db


def _drf(serializer, instance):
    """DRF's own representation, field by field, with nested serializers also DRF's own."""
    result = {}
    for field in serializer._readable_fields:
        try:
            value = field.get_attribute(instance)
        except serializers.SkipField:
            continue
        if value is None:
            result[field.field_name] = None
        elif isinstance(field, FastReadMixin):
            result[field.field_name] = _drf(field, value)
        elif isinstance(field, serializers.ListSerializer) and isinstance(field.child, FastReadMixin):
            rows = value.all() if hasattr(value, "all") else value
            result[field.field_name] = [_drf(field.child, row) for row in rows]
        else:
            result[field.field_name] = field.to_representation(value)
    return result


@pytest.fixture
def request_row(channel):
    order = order_with_items(channel=channel, lines=[(Decimal("10.55"), 2), (Decimal("3.10"), 1)])
    # A time off UTC and a microsecond, as a client may have sent it.
    order.date_placed = datetime(2025, 3, 1, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=3)))
    order.save()
    item = order.items.order_by("id").first()
    plan = CancellationPlanFactory(order=order)
    CancellationPlanItemFactory(plan=plan, order_item=item)
    RefundFactory(plan=plan, order=order, channel=channel, amount=Decimal("21.10"))
    request = CancellationRequestFactory(
        order_item=item,
        iban="TR330006100519786457841326",
        easy_return=EasyReturnFactory(),
        cancellation_plan=plan,
        attributes={"note": "ä", "n": [1, 2]},
    )
    return request


def test_every_read_serializer_uses_the_fast_path():
    modules = (cancellations.serializers, orders.serializers)
    model_serializers = [
        cls
        for module in modules
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, serializers.ModelSerializer) and cls.__module__ == module.__name__
    ]
    assert model_serializers
    assert all(issubclass(cls, FastReadMixin) for cls in model_serializers)


@pytest.mark.parametrize("shape", ["plain", "detailed"])
def test_requests_come_out_as_drf_makes_them(request_row, channel, shape):
    detailed = shape == "detailed"
    serializer_class = (
        cancellations.serializers.CancellationRequestDetailedSerializer
        if detailed
        else cancellations.serializers.CancellationRequestSerializer
    )
    (row,) = with_channel(
        [cancellation_request_list(channel_id=channel.pk, detailed=detailed).get(pk=request_row.pk)], channel
    )

    fast = serializer_class(row).data

    assert fast == _drf(serializer_class(row), row)
    assert fast["attributes"] == {"note": "ä", "n": [1, 2]}
    if detailed:
        assert fast["order_item"]["order"]["date_placed"] == "2025-03-01T09:30:05.123456Z"


def test_plans_and_orders_come_out_as_drf_makes_them(request_row, channel):
    plan = cancellation_plan_list().get(pk=request_row.cancellation_plan_id)
    order = Order.objects.get(pk=request_row.order_item.order_id)

    plan_data = cancellations.serializers.CancellationPlanSerializer(plan).data
    order_data = orders.serializers.OrderDetailSerializer(order).data

    assert plan_data == _drf(cancellations.serializers.CancellationPlanSerializer(plan), plan)
    assert plan_data["refunds"][0]["amount"] == "21.10"
    assert order_data == _drf(orders.serializers.OrderDetailSerializer(order), order)


def test_a_time_in_another_zone_comes_out_in_utc():
    serializer = cancellations.serializers.CancellationRequestSerializer()
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    row = CancellationRequest(created_date=moment.astimezone(timezone(timedelta(hours=-5))), modified_date=moment)

    data = {name: value for name, value in serializer.to_representation(row).items() if name.endswith("_date")}

    assert data == {"created_date": "2026-01-02T03:04:05.000000Z", "modified_date": "2026-01-02T03:04:05.000000Z"}


@pytest.mark.parametrize(
    "value", [Decimal("10.5"), Decimal("1.005"), Decimal("-0.015"), Decimal("1E+2"), Decimal("0E-7"), 7, 2.675]
)
def test_a_decimal_comes_out_as_drf_writes_it(value):
    class PriceSerializer(FastReadMixin, serializers.ModelSerializer):
        class Meta:
            model = OrderItem
            fields = ("price", "tax_rate")

    item = OrderItem(price=value, tax_rate=value)

    data = PriceSerializer(item).data

    assert data == {
        "price": serializers.DecimalField(max_digits=14, decimal_places=2).to_representation(value),
        "tax_rate": serializers.DecimalField(max_digits=5, decimal_places=2).to_representation(value),
    }


@pytest.mark.parametrize("coerce_to_string", [None, True])
def test_a_big_integer_comes_out_as_drf_writes_it_read_as_a_plain_column(coerce_to_string):
    class IdSerializer(FastReadMixin, serializers.ModelSerializer):
        class Meta:
            model = OrderItem
            fields = ("id",)
            extra_kwargs = {"id": {"coerce_to_string": coerce_to_string}}

    serializer = IdSerializer(OrderItem(id=2**53 + 1))

    assert serializer.data == {"id": serializer.fields["id"].to_representation(2**53 + 1)}
    assert [reader for _, reader, _ in serializer._read_plan()] == [("id", str if coerce_to_string else int)]


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=timezone(timedelta(hours=-5))),
        datetime(269, 1, 1, tzinfo=UTC),
        datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    ],
)
def test_a_time_comes_out_as_drf_writes_it(moment):
    row = CancellationRequest(created_date=moment, modified_date=moment)

    data = cancellations.serializers.CancellationRequestSerializer().to_representation(row)

    assert data["created_date"] == serializers.DateTimeField().to_representation(moment)


def test_a_serializer_whose_fields_read_rows_alone_shares_its_class_plan(channel):
    first = order_with_items(channel=channel, lines=[(Decimal("10.55"), 2), (Decimal("3.10"), 1)])
    second = order_with_items(channel=channel, lines=[(Decimal("7.00"), 1)])
    serializer_class = orders.serializers.OrderDetailSerializer

    shown = [serializer_class(order) for order in (first, second)]
    data = [serializer.data for serializer in shown]

    # neither serializer worked out its own fields: the class's plan read both orders, each as DRF reads it
    assert not any("fields" in serializer.__dict__ for serializer in shown)
    assert data == [_drf(serializer_class(order), order) for order in (first, second)]
    assert [len(rows["items"]) for rows in data] == [2, 1]


def test_a_serializer_with_a_method_field_reads_with_its_own_fields(request_row):
    serializer = cancellations.serializers.CancellationRequestSerializer(request_row, context={"shown": "masked"})

    data = serializer.data

    assert "fields" in serializer.__dict__
    assert (
        data["iban"] == _drf(cancellations.serializers.CancellationRequestSerializer(request_row), request_row)["iban"]
    )
