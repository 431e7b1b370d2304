from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from orders.models import Order, OrderItem
from orders.services import order_lock
from tests.factories import ChannelFactory, order_with_items

pytestmark = pytest.mark.django_db


def values(instance) -> list:
    return [(field.attname, getattr(instance, field.attname)) for field in instance._meta.concrete_fields]


def test_the_order_its_channel_and_its_items_come_back_as_the_orm_reads_them(channel):
    # given: an order of two items
    order = order_with_items(channel=channel, lines=[(Decimal("10.00"), 1), (Decimal("20.50"), 3)])

    # when
    locked, items = order_lock(order.pk, with_channel=True, channel_id=channel.pk)

    # then: every field, converted as the ORM converts it; the channel read along; the items by id, pointing at it
    assert values(locked) == values(Order.objects.get(pk=order.pk))
    assert (locked._state.adding, locked._state.db) == (False, "default")
    with CaptureQueriesContext(connection) as captured:
        assert values(locked.channel) == values(channel)
        assert all(item.order is locked for item in items)
    assert captured.captured_queries == []
    assert [values(item) for item in items] == [values(item) for item in OrderItem.objects.order_by("id")]


def test_the_order_row_is_locked_by_one_select_for_update_of_the_order_alone(channel):
    order = order_with_items(channel=channel)

    with CaptureQueriesContext(connection) as captured:
        locked, items = order_lock(order.pk, with_items=False, with_channel=True)

    assert (locked.pk, items) == (order.pk, [])
    [query] = captured.captured_queries
    if connection.vendor == "postgresql":
        assert query["sql"].endswith(f'FOR UPDATE OF "{Order._meta.db_table}"')


def test_another_channels_order_is_not_found_as_an_unknown_one_is(channel):
    order = order_with_items(channel=channel)
    other = ChannelFactory(name="Marketplace")

    with pytest.raises(Order.DoesNotExist):
        order_lock(order.pk, channel_id=other.pk)
    with pytest.raises(Order.DoesNotExist):
        order_lock(order.pk + 1000, with_channel=True)
    assert order_lock(order.pk, channel_id=channel.pk)[0].pk == order.pk


@pytest.mark.parametrize("ids", [{"order_id": 2**70}, {"order_id": -(2**70)}, {"channel_id": 2**70}])
def test_an_id_beyond_what_the_database_holds_is_not_found_not_an_error(channel, ids):
    # given: an id a URL's <int:...> accepts, but no column can hold
    order = order_with_items(channel=channel)
    ids = {"order_id": order.pk, **ids}

    with pytest.raises(Order.DoesNotExist):
        order_lock(**ids)
    # then: the transaction is still usable
    assert Order.objects.filter(pk=order.pk).exists()


@pytest.mark.parametrize("shape", [{}, {"with_items": False, "with_channel": True}, {"with_channel": True}])
def test_the_locking_statements_are_compiled_once_not_per_call(channel, shape):
    order = order_with_items(channel=channel)
    order_lock(order.pk, channel_id=channel.pk, **shape)

    with mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql) as as_sql:
        order_lock(order.pk, channel_id=channel.pk, **shape)

    assert as_sql.call_count == 0
