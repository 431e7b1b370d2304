"""Lists count exactly while it is cheap and estimate past that; a page is fetched by its ids first."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cancellations import selectors
from cancellations.models import CancellationRequest
from common.api import pagination
from tests.factories import CancellationPlanFactory, CancellationRequestFactory, OrderItemFactory, order_with_items

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


def page_queries(client, path: str, page: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{path}?limit=10&page={page}")
    assert len(response.json()["results"]) == 10
    return len(queries)


def test_a_deep_page_costs_one_query_more_than_the_first(staff_client, channel, monkeypatch):
    monkeypatch.setattr(pagination, "SHALLOW_PAGES", 1)  # pages from the second on take the ids-first path
    for _ in range(30):
        order_with_items(channel=channel)

    first, deep = (page_queries(staff_client, "/api/i1/orders/", page) for page in (1, 2))

    assert deep == first + 1  # its ids first, then its rows; no more however deep


def test_a_list_paged_on_its_ids_alone_costs_the_same_on_a_deep_page(channel_client, channel, requests_of, monkeypatch):
    monkeypatch.setattr(pagination, "SHALLOW_PAGES", 1)
    requests_of(30)

    for shape in ("", "detailed/"):
        path = f"/api/channel/{channel.pk}/cancellation_requests/{shape}"
        first, deep = (page_queries(channel_client, path, page) for page in (1, 2))
        # the requests' page is chosen on their ids alone (the narrowest query already), then its rows are read
        assert deep == first, shape


@pytest.mark.parametrize("path", ["cancellation_requests/", "cancellation_requests/detailed/", "cancellation_plans/"])
def test_a_list_that_fits_its_first_page_runs_no_count_query_of_its_own(channel_client, channel, requests_of, path):
    requests_of(3)
    for request in CancellationRequest.objects.filter(channel=channel):
        CancellationPlanFactory(order=request.order_item.order)

    with CaptureQueriesContext(connection) as queries:
        body = channel_client.get(f"/api/channel/{channel.pk}/{path}?limit=10").json()

    assert body["count"] == 3
    assert body["next"] is None
    # the requests' ids come with their count (a window over the page's query), the plans' rows tell it
    assert not [query for query in queries if query["sql"].upper().startswith("SELECT COUNT(")]


def test_a_page_of_request_ids_and_the_count_come_in_one_query(channel_client, channel, requests_of):
    ids = sorted(requests_of(25), reverse=True)

    with CaptureQueriesContext(connection) as queries:
        body = channel_client.get(f"/api/channel/{channel.pk}/cancellation_requests/?limit=10&page=2").json()

    assert body["count"] == 25
    assert "count_is_estimate" not in body
    assert [row["id"] for row in body["results"]] == ids[10:20]
    assert body["next"] is not None
    assert body["previous"] is not None
    counting = [query for query in queries if "COUNT(" in query["sql"].upper()]
    assert len(counting) == 1
    assert "OVER ()" in counting[0]["sql"]


def test_next_is_given_exactly_when_rows_follow(channel_client, channel, requests_of, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)
    monkeypatch.setattr(pagination, "TRUSTED_ESTIMATE", 5)
    # An estimate far above the truth must not send a client to empty pages.
    monkeypatch.setattr(pagination, "estimated_count", lambda queryset: 1_000_000)
    requests_of(12)
    base = f"/api/channel/{channel.pk}/cancellation_requests/?limit=5"

    first = channel_client.get(base).json()
    last = channel_client.get(f"{base}&page=3").json()

    assert first["count_is_estimate"] is True
    assert first["next"] is not None
    assert len(last["results"]) == 2
    assert last["next"] is None
    assert last["count"] == 12  # the last page knows the count exactly
    assert "count_is_estimate" not in last


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


def test_a_request_deleted_between_the_pages_two_reads_is_left_out(channel_client, channel, requests_of, monkeypatch):
    ids = sorted(requests_of(3), reverse=True)
    real_read = selectors.cancellation_requests_by_id

    def deleted_meanwhile(**kwargs):
        CancellationRequest.objects.filter(pk=ids[1]).delete()  # after the page's ids were read
        return real_read(**kwargs)

    monkeypatch.setattr(selectors, "cancellation_requests_by_id", deleted_meanwhile)
    response = channel_client.get(f"/api/channel/{channel.pk}/cancellation_requests/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [ids[0], ids[2]]


def test_a_list_no_row_can_match_is_an_empty_page_without_a_query():
    nothing = CancellationRequest.objects.filter(pk__in=[]).only("pk")
    paginator = pagination.CappedCountPaginator(nothing, 10)
    paginator.read_rows = pagination.ids_of

    with CaptureQueriesContext(connection) as queries:
        page = paginator.page(1)

    assert list(page) == []
    assert paginator.count == 0
    assert pagination.estimated_count(nothing) == (0 if connection.vendor == "postgresql" else None)
    assert queries.captured_queries == []
