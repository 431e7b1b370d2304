from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import OrderItem
from orders.services import order_items_units_cancel, order_lock
from tests.factories import order_with_items

pytestmark = pytest.mark.django_db

LINES = [(Decimal("10.00"), 1), (Decimal("20.00"), 3), (Decimal("30.00"), 2)]


def states(order) -> list[tuple]:
    return list(
        OrderItem.objects.filter(order=order)
        .order_by("id")
        .values_list("cancelled_quantity", "cancel_status", "status")
    )


def test_every_open_unit_is_one_plain_update_of_the_items():
    order = order_with_items(lines=LINES)
    order, items = order_lock(order.pk)
    items[1].cancelled_quantity = 1  # one unit of the second item went before
    items[1].save(update_fields=["cancelled_quantity"])

    with CaptureQueriesContext(connection) as captured:
        order_items_units_cancel(
            order=order, items=items, units={item.pk: item.open_quantity for item in items}, final_when_all_units=True
        )

    (update,) = [query["sql"] for query in captured.captured_queries]
    assert "CASE" not in update
    assert states(order) == [(1, "approved", "100"), (3, "approved", "100"), (2, "approved", "100")]
    assert [(item.cancelled_quantity, item.status) for item in items] == [(1, "100"), (3, "100"), (2, "100")]


def test_a_return_of_every_open_unit_keeps_the_items_status():
    order = order_with_items(lines=LINES, item_status="500")
    order, items = order_lock(order.pk)

    order_items_units_cancel(
        order=order, items=items, units={item.pk: item.open_quantity for item in items}, final_when_all_units=False
    )

    assert states(order) == [(1, "approved", "500"), (3, "approved", "500"), (2, "approved", "500")]


def test_some_units_of_some_items_are_updated_item_by_item():
    order = order_with_items(lines=LINES)
    order, items = order_lock(order.pk)

    order_items_units_cancel(
        order=order, items=items, units={items[1].pk: 1, items[2].pk: 2}, final_when_all_units=True
    )

    assert states(order) == [(0, None, "400"), (1, "approved", "400"), (2, "approved", "100")]
