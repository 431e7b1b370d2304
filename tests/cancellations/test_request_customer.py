"""The order's customer, copied onto each cancellation request when it is made: the customer filters of the request
lists read it from the request (its (channel, customer, id) index), and answer exactly what filtering through the
order answers."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.http import QueryDict

from cancellations.filters import CancellationRequestFilter
from cancellations.models import CancellationRequest
from cancellations.selectors import cancellation_request_list
from cancellations.services import RequestInput, cancellation_request_create
from orders.models import Customer
from tests.factories import CancellationReasonFactory, CancellationRequestFactory, ChannelFactory, order_with_items

pytestmark = pytest.mark.django_db

migration = importlib.import_module("cancellations.migrations.0007_request_customer")


def filtered_ids(query: str, *, channel_id: int) -> list[int]:
    filterset = CancellationRequestFilter(QueryDict(query), queryset=cancellation_request_list(channel_id=channel_id))
    assert filterset.is_valid(), filterset.errors
    return list(filterset.qs.values_list("id", flat=True))


def test_the_service_copies_the_orders_customer_onto_the_request(channel):
    order = order_with_items(channel=channel)
    reason = CancellationReasonFactory(cancellation_type="cancel")

    request = cancellation_request_create(
        channel=channel,
        fields=RequestInput(order_item=order.items.get(), reason=reason, cancellation_type="cancel"),
    )

    assert CancellationRequest.objects.get(pk=request.pk).customer_id == order.customer_id


def test_customer_filters_answer_what_the_orders_customer_answers():
    channel, other_channel = ChannelFactory(), ChannelFactory()
    requests = [
        CancellationRequestFactory(order_item__order__channel=the_channel)
        for the_channel in (channel, channel, channel, other_channel)
    ]
    names = [("Ada", "Lovelace", "ada@example.com"), ("ADA", "Byron", "byron@example.com"), ("Eve", "Lovelace", "")]
    for request, (first, last, email) in zip(requests, [*names, names[0]], strict=False):
        Customer.objects.filter(pk=request.customer_id).update(first_name=first, last_name=last, email=email)
    Customer.objects.filter(pk=requests[3].customer_id).update(first_name="Ada", last_name="Lovelace")

    for query in ("customer_first_name=ada", "customer_last_name=LOVELACE", "customer_email=ADA@example.com"):
        field, value = query.split("=")
        lookup = {f"order_item__order__customer__{field.removeprefix('customer_')}__iexact": value}
        through_orders = CancellationRequest.objects.filter(channel=channel, **lookup).order_by("-id")
        expected = list(through_orders.values_list("id", flat=True))
        assert expected, query
        assert filtered_ids(query, channel_id=channel.pk) == expected, query


@pytest.mark.postgres
def test_the_migration_fills_the_customer_of_the_requests_already_there(channel):
    # given: requests written before the column existed (NULL), and one that has its customer already
    missing = [CancellationRequestFactory(order_item__order__channel=channel) for _ in range(2)]
    present = CancellationRequestFactory(order_item__order__channel=channel)
    with connection.cursor() as cursor:  # the test's transaction rolls this back with the rest
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred foreign key checks, done before the ALTER
        cursor.execute("ALTER TABLE cancellations_cancellationrequest ALTER COLUMN customer_id DROP NOT NULL")
        cursor.execute(
            "UPDATE cancellations_cancellationrequest SET customer_id = NULL WHERE id = ANY(%s)",
            [[request.pk for request in missing]],
        )

    # when
    migration.customer_from_order(apps, None)

    # then: each has its order's customer
    for request in [*missing, present]:
        stored = CancellationRequest.objects.select_related("order_item__order").get(pk=request.pk)
        assert stored.customer_id == stored.order_item.order.customer_id
