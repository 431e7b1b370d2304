"""The request lists' customer name filters: every request of the list's channel whose order's customer has the
name, newest first, however the name's customers and orders are spread over channels."""

import pytest
from django.http import QueryDict

from cancellations.filters import CancellationRequestFilter
from cancellations.models import CancellationRequest
from cancellations.selectors import cancellation_request_list
from tests.factories import CancellationRequestFactory, ChannelFactory, CustomerFactory, OrderFactory, OrderItemFactory

pytestmark = pytest.mark.django_db


def request_for(customer, channel):
    order = OrderFactory(channel=channel, customer=customer)
    return CancellationRequestFactory(order_item=OrderItemFactory(order=order))


def filtered_ids(query: str, requests) -> list[int]:
    filterset = CancellationRequestFilter(QueryDict(query), queryset=requests)
    assert filterset.is_valid(), filterset.errors
    return list(filterset.qs.values_list("id", flat=True))


@pytest.mark.parametrize("name", ["first_name", "last_name"])
def test_a_name_filter_finds_the_channels_requests_of_every_customer_with_the_name(name):
    # given
    channel, other = ChannelFactory(), ChannelFactory()
    named = {name: "Zeynep"}
    ours = CustomerFactory(channel=channel, **named)
    theirs = CustomerFactory(channel=other, **named)
    someone_else = CustomerFactory(channel=channel, **{name: "Elif"})
    expected = [
        request_for(ours, channel),
        request_for(theirs, other),
        # a customer of another channel on an order of this one: the request is the order's channel's
        request_for(theirs, channel),
        request_for(someone_else, channel),
        request_for(ours, channel),
    ]
    in_channel = [expected[4].pk, expected[2].pk, expected[0].pk]

    # when
    found = filtered_ids(f"customer_{name}=zEYNEP", cancellation_request_list(channel_id=channel.pk))
    everywhere = filtered_ids(f"customer_{name}=ZEYNEP", CancellationRequest.objects.order_by("-id"))

    # then
    assert found == in_channel
    assert everywhere == [expected[4].pk, expected[2].pk, expected[1].pk, expected[0].pk]
