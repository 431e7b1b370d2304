"""A list's query parameters mean one thing or are a 400 naming them: a filter or page given twice, a filter given
empty where its value cannot be empty, a page number no list reaches. Text filters may be empty (no filter)."""

import pytest

from tests.factories import order_with_items

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/i1/orders/", "status="),
        ("/api/i1/orders/", "date_placed__lte="),
        ("/api/i1/orders/", "customer_email="),
        ("/api/i1/orders/", "channel="),
        ("/api/i1/channels/", "channel_type="),
        ("/api/i1/channels/", "is_active="),
        ("/api/i1/cancellation_reasons/", "cancellation_type="),
        ("/api/channel/{channel}/batch_requests/", "local_batch_id="),
        ("/api/channel/{channel}/cancellation_requests/", "date_placed__date__gt="),
        ("/api/i1/users/", "page="),
        ("/api/i1/users/", "limit="),
    ],
)
def test_an_empty_value_that_the_parameter_cannot_have_is_400_naming_it(staff_client, channel, path, query):
    order_with_items(channel=channel)
    response = staff_client.get(f"{path.format(channel=channel.pk)}?{query}")
    assert response.status_code == 400, response.content
    name = query.removesuffix("=")
    assert name in response.json(), response.json()
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/i1/orders/", "status=400&status=500"),
        ("/api/i1/orders/", "number=A&number=B"),
        ("/api/i1/users/", "page=1&page=2"),
        ("/api/i1/users/", "limit=5&limit=10"),
        ("/api/i1/order_items/", "sort=id&sort=-id"),
    ],
)
def test_a_parameter_given_twice_is_400_naming_it(staff_client, path, query):
    response = staff_client.get(f"{path}?{query}")
    assert response.status_code == 400, response.content
    assert query.split("=")[0] in response.json()


@pytest.mark.parametrize(
    ("path", "query"),
    [("/api/i1/orders/", "number="), ("/api/i1/orders/", "pk__in="), ("/api/i1/order_items/", "sort=")],
)
def test_an_empty_text_or_list_filters_nothing(staff_client, channel, path, query):
    order_with_items(channel=channel)
    response = staff_client.get(f"{path}?{query}")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_filter_that_takes_several_values_may_repeat(channel_client, channel):
    response = channel_client.get(f"/api/channel/{channel.pk}/batch_requests/?status=done&status=fail")
    assert response.status_code == 200, response.content


def test_an_unknown_parameter_is_still_ignored(staff_client):
    """channel-app sends parameters this service does not track (`channel_id` on integration actions)."""
    assert staff_client.get("/api/i1/orders/?unknown=&unknown=").status_code == 200


@pytest.mark.parametrize("page", [10**15 + 1, 10**20, 91733070932983152640])
def test_a_page_number_beyond_any_offset_is_400_not_a_server_error(staff_client, page):
    """Its offset would not fit a bigint: PostgreSQL refused it with an error, a 500."""
    response = staff_client.get(f"/api/i1/users/?page={page}")
    assert response.status_code == 400
    assert "page" in response.json()


def test_the_highest_page_number_is_a_404_past_the_end(staff_client):
    assert staff_client.get(f"/api/i1/users/?page={10**15}&limit=100").status_code == 404


def test_the_schema_declares_customer_email_an_email_and_page_bounded(staff_client):
    schema = staff_client.get("/api/schema/", {"format": "json"}).json()
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/i1/orders/"]["get"]["parameters"]}
    assert parameters["customer_email"] == {"type": "string", "format": "email"}
    assert parameters["page"]["maximum"] == 10**15
