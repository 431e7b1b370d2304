"""Lists count exactly while it is cheap and estimate past that; a page is fetched by its ids first."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.api import pagination
from tests.factories import CancellationRequestFactory, OrderItemFactory, order_with_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def requests_of(channel):
    def make(count):
        order = order_with_items(channel=channel, lines=[(Decimal("5.00"), 1)] * count)
        return [CancellationRequestFactory(order_item=item).pk for item in order.items.order_by("id")]

    return make


def test_a_small_list_counts_exactly_and_says_nothing_more(channel_client, channel, requests_of):
    requests_of(12)

    body = channel_client.get(f"/api/channel/{channel.pk}/cancellation_requests/").json()

    assert body["count"] == 12
    assert "count_is_estimate" not in body


def test_pages_hold_the_rows_in_the_lists_order(channel_client, channel, requests_of):
    ids = sorted(requests_of(25), reverse=True)  # requests list newest first
    base = f"/api/channel/{channel.pk}/cancellation_requests/?limit=10"

    pages = [channel_client.get(f"{base}&page={page}").json() for page in (1, 2, 3)]

    assert [row["id"] for page in pages for row in page["results"]] == ids
    assert channel_client.get(f"{base}&page=4").status_code == 404


def test_a_page_costs_the_same_queries_deep_or_shallow(channel_client, channel, requests_of):
    requests_of(30)
    counts = []
    for page in (1, 3):
        with CaptureQueriesContext(connection) as queries:
            response = channel_client.get(f"/api/channel/{channel.pk}/cancellation_requests/?limit=10&page={page}")
        assert len(response.json()["results"]) == 10
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.postgres
def test_past_the_limit_the_count_is_the_planners_estimate(channel_client, channel, requests_of, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)
    requests_of(12)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    body = channel_client.get(f"/api/channel/{channel.pk}/cancellation_requests/?limit=5").json()

    assert body["count_is_estimate"] is True
    assert body["count"] >= 6  # never below the rows it saw
    assert len(body["results"]) == 5
    # a page past the estimate is an empty page, not an error: the estimate may be short
    far = channel_client.get(f"/api/channel/{channel.pk}/cancellation_requests/?limit=5&page=50")
    assert far.status_code == 200
    assert far.json()["results"] == []


def test_without_an_estimator_the_count_stays_exact(channel_client, channel, requests_of, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)
    monkeypatch.setattr(pagination, "estimated_count", lambda queryset: None)
    requests_of(12)
    OrderItemFactory()  # another channel's rows never count

    body = channel_client.get(f"/api/channel/{channel.pk}/cancellation_requests/?limit=5").json()

    assert body["count"] == 12
    assert "count_is_estimate" not in body
