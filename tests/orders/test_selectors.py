from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.selectors import order_get, order_list
from orders.serializers import OrderDetailSerializer
from tests.factories import order_with_items

pytestmark = pytest.mark.django_db


def test_order_get_reads_an_order_with_its_items_in_one_query(channel):
    order = order_with_items(channel=channel, lines=[(Decimal("10.00"), 1), (Decimal("20.00"), 2)])

    with CaptureQueriesContext(connection) as captured:
        data = OrderDetailSerializer(order_get(order_id=order.pk)).data

    assert len(captured.captured_queries) == 1
    assert data == OrderDetailSerializer(order_list().get(pk=order.pk)).data
    assert [item["id"] for item in data["items"]] == sorted(item.pk for item in order.items.all())


def test_order_get_reads_an_order_without_items(channel):
    order = order_with_items(channel=channel)
    order.items.all().delete()

    data = OrderDetailSerializer(order_get(order_id=order.pk)).data

    assert (data["id"], data["items"]) == (order.pk, [])
