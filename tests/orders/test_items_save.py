from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import OrderItem
from orders.services import order_items_save, order_lock
from tests.factories import order_with_items

pytestmark = pytest.mark.django_db


def test_each_item_gets_its_own_values_in_one_update_and_other_items_keep_theirs():
    # given: three items, of which two change, each differently (a cleared cancel_status among them)
    order = order_with_items(lines=[(Decimal("10.00"), 1), (Decimal("20.00"), 3), (Decimal("30.00"), 2)])
    _, items = order_lock(order.pk)
    first, second, third = items
    before = OrderItem.objects.get(pk=third.pk)
    now = timezone.now()
    first.refund_amount, first.cancel_status, first.modified_date = Decimal("10.00"), "confirmed", now
    second.refund_amount, second.cancel_status, second.modified_date = Decimal("19.99"), None, now

    # when
    with CaptureQueriesContext(connection) as captured:
        order_items_save([first, second], ["refund_amount", "cancel_status", "modified_date"])

    # then
    assert len(captured.captured_queries) == 1
    saved = {item.pk: item for item in OrderItem.objects.filter(order=order)}
    assert (saved[first.pk].refund_amount, saved[first.pk].cancel_status) == (Decimal("10.00"), "confirmed")
    assert (saved[second.pk].refund_amount, saved[second.pk].cancel_status) == (Decimal("19.99"), None)
    assert saved[first.pk].modified_date == saved[second.pk].modified_date == now
    assert (saved[third.pk].refund_amount, saved[third.pk].cancel_status, saved[third.pk].modified_date) == (
        before.refund_amount,
        before.cancel_status,
        before.modified_date,
    )


def test_nothing_to_save_is_no_query():
    with CaptureQueriesContext(connection) as captured:
        order_items_save([], ["refund_amount"])
    assert captured.captured_queries == []
