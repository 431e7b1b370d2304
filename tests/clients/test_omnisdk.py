"""omnisdk 0.0.103, Akinon's Python client for Omnitron, unmodified, against the service over HTTPS.

omnisdk speaks `/api/v1/`, logs in with `POST api/v1/auth/login/`, checks a token it is given with
`GET api/v1/active_user/`, and logs in again once when a call answers 401.
"""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from omnisdk.exceptions import ValidationError
from omnisdk.omnitron.client import OmnitronApiClient
from omnisdk.omnitron.endpoints import (
    ActiveUserEndpoint,
    ChannelCancellationReasonEndpoint,
    ChannelCancellationRequestEndpoint,
    ChannelOrderEndpoint,
)
from omnisdk.omnitron.models import CancellationRequest, Order
from rest_framework.authtoken.models import Token

from cancellations.models import CancellationRequest as CancellationRequestRow
from orders.models import Order as OrderRow
from orders.models import OrderItem

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def token_of(username: str) -> Token:
    return Token.objects.get(user__username=username)


@pytest.fixture
def api(server, shop):
    """Logged in as the shop's integration user, with the password, as an integration starts."""
    client = OmnitronApiClient(server.url, shop.username, shop.password)
    yield client
    client.session.close()


@pytest.fixture
def items(shop) -> list[int]:
    """Three cancellable lines over two orders, in order."""
    first = shop.intake("SO-1001", [("L-1", "SKU-1", "100.00", 1), ("L-2", "SKU-2", "50.00", 2)])
    second = shop.intake("SO-1002", [("L-3", "SKU-3", "80.00", 1)])
    return [item["id"] for item in first["items"] + second["items"]]


def test_logs_in_on_api_v1(server, shop):
    start = server.log_size()

    client = OmnitronApiClient(server.url, shop.username, shop.password)

    token = token_of(shop.username)
    assert client.base_url == f"{server.url}api/v1/"
    assert client.token == client.session.headers["Authorization"] == f"Token {token.key}"
    server.wait_for_request(start, "POST /api/v1/auth/login/ 200")
    user = ActiveUserEndpoint().list()
    assert (user.pk, user.username, user.is_staff, user.channels) == (
        token.user_id,
        shop.username,
        False,
        [shop.channel_id],
    )


def test_wrong_password_is_omnisdk_validation_error(server, shop):
    with pytest.raises(ValidationError) as raised:
        OmnitronApiClient(server.url, shop.username, "not-the-password")

    assert raised.value.json["code"] == "invalid_credentials"
    assert not Token.objects.filter(user__username=shop.username).exists()


def test_a_stored_valid_token_is_checked_on_active_user_without_a_login(server, shop):
    token = Token.objects.create(user=get_user_model().objects.get(username=shop.username))
    start = server.log_size()

    # A wrong password: had the client logged in, it would have raised.
    client = OmnitronApiClient(server.url, shop.username, "not-the-password", token=f"Token {token.key}")
    reasons = ChannelCancellationReasonEndpoint(channel_id=shop.channel_id).list()

    assert client.token == f"Token {token.key}"
    assert len(reasons) == 3
    lines = server.wait_for_request(start, f"GET /api/v1/channel/{shop.channel_id}/cancellation_reasons/ 200")
    assert "GET /api/v1/active_user/ 200" in lines
    assert not [line for line in lines if "/auth/login/" in line]
    assert list(Token.objects.filter(user__username=shop.username)) == [token]


def test_an_invalid_stored_token_raises_omnisdk_validation_error(server, shop):
    start = server.log_size()

    with pytest.raises(ValidationError) as raised:
        OmnitronApiClient(server.url, shop.username, shop.password, token="Token " + "0" * 40)

    assert raised.value.args == ("Invalid token",)
    assert set(raised.value.json) >= {"detail"}
    lines = server.wait_for_request(start, "GET /api/v1/active_user/ 401")
    assert not [line for line in lines if "/auth/login/" in line]
    assert not Token.objects.filter(user__username=shop.username).exists()


def test_a_token_revoked_on_the_server_is_replaced_by_a_new_login(server, shop, api, items):
    revoked = token_of(shop.username)
    revoked.delete()
    start = server.log_size()

    orders = ChannelOrderEndpoint(channel_id=shop.channel_id).list()

    fresh = token_of(shop.username)
    assert fresh.key != revoked.key
    assert api.token == api.session.headers["Authorization"] == f"Token {fresh.key}"
    assert {order.number for order in orders} == {"SO-1001", "SO-1002"}
    orders_path = f"/api/v1/channel/{shop.channel_id}/orders/"
    lines = server.wait_for_request(start, f"GET {orders_path} 200")
    # (sorted: two workers may write their access lines out of order)
    assert sorted(line for line in lines if orders_path in line or "/auth/login/" in line) == [
        f"GET {orders_path} 200",
        f"GET {orders_path} 401",
        "POST /api/v1/auth/login/ 200",
    ]


def test_cancellation_request_create(shop, api, items):
    endpoint = ChannelCancellationRequestEndpoint(channel_id=shop.channel_id)

    created = endpoint.create(
        item=CancellationRequest(
            order_item=items[0],
            reason=shop.reasons["OUT_OF_STOCK"],
            cancellation_type="cancel",
            description="Customer asked by phone",
        )
    )

    assert isinstance(created, CancellationRequest)
    assert (created.pk, created.order_item, created.reason, created.status, created.quantity) == (
        created.id,
        items[0],
        shop.reasons["OUT_OF_STOCK"],
        "waiting",
        1,
    )
    row = CancellationRequestRow.objects.get()
    assert (row.pk, row.order_item_id, row.status, row.description) == (
        created.id,
        items[0],
        "waiting",
        "Customer asked by phone",
    )
    assert OrderItem.objects.get(pk=items[0]).cancel_status == "waiting"


def create_requests(shop, order_items: list[int]) -> list[int]:
    endpoint = ChannelCancellationRequestEndpoint(channel_id=shop.channel_id)
    return [
        endpoint.create(
            item=CancellationRequest(order_item=item, reason=shop.reasons["OUT_OF_STOCK"], cancellation_type="cancel")
        ).id
        for item in order_items
    ]


def test_cancellation_request_list_pages_through_the_iterator(server, shop, api, items):
    created = create_requests(shop, items)
    endpoint = ChannelCancellationRequestEndpoint(channel_id=shop.channel_id)
    start = server.log_size()

    first_page = endpoint.list(params={"limit": 2})
    later_pages = list(endpoint.iterator)

    assert len(first_page) == 2
    assert [len(page) for page in later_pages] == [1]
    listed = [request.pk for request in first_page + later_pages[0]]
    assert sorted(listed) == sorted(created)
    assert all(request.status == "waiting" for request in first_page + later_pages[0])
    path = f"/api/v1/channel/{shop.channel_id}/cancellation_requests/"
    # One request a page: the iterator asks for page 2 and stops at its null `next`.
    lines = server.wait_for_request(start, f"GET {path} 200", count=2)
    assert [line for line in lines if line.startswith("GET ")] == [f"GET {path} 200"] * 2


def test_cancellation_request_reject_through_a_detail_path(shop, api, items):
    [request_id] = create_requests(shop, items[:1])

    # An action without a body: omnisdk posts the JSON `null`.
    rejected = ChannelCancellationRequestEndpoint(channel_id=shop.channel_id, path=f"{request_id}/reject").create(
        item=None
    )

    assert (rejected.pk, rejected.status) == (request_id, "rejected")
    assert CancellationRequestRow.objects.get(pk=request_id).status == "rejected"
    assert OrderItem.objects.get(pk=items[0]).cancel_status == "rejected"


def test_cancellation_request_detailed_list_and_one(shop, api, items):
    created = create_requests(shop, items[:2])

    detailed = ChannelCancellationRequestEndpoint(channel_id=shop.channel_id, path="detailed").list()
    one = ChannelCancellationRequestEndpoint(channel_id=shop.channel_id, path="detailed").retrieve(id=created[1])

    assert sorted(request.pk for request in detailed) == sorted(created)
    assert one.pk == created[1]
    # As reference 003 shows them: nested objects by `pk`.
    assert one.order_item["pk"] == items[1]
    assert one.order_item["order"]["number"] == "SO-1001"
    assert one.order_item["product"]["sku"] == "SKU-2"
    assert one.reason["pk"] == shop.reasons["OUT_OF_STOCK"]
    assert one.channel["id"] == shop.channel_id
    assert one.channel["conf"]["reason_mapping"]["OUT_OF_STOCK"] == shop.reasons["OUT_OF_STOCK"]
    assert one.customer["email"] == "ayse@example.com"
    assert one.easy_return is None


def test_cancellation_reason_list_shows_the_active_reasons(shop, api):
    retired = shop.http.delete(f"api/v1/cancellation_reasons/{shop.reasons['DAMAGED']}/", headers=shop.staff)
    assert retired.status_code == 204, retired.text

    reasons = ChannelCancellationReasonEndpoint(channel_id=shop.channel_id).list()

    assert sorted((reason.pk, reason.cancellation_type) for reason in reasons) == sorted(
        [(shop.reasons["OUT_OF_STOCK"], "cancel"), (shop.reasons["CHANGED_MIND"], "cancel")]
    )


def test_order_list_by_pk_in(shop, api):
    orders = [shop.intake(f"SO-20{n}", [(f"L-20{n}", "SKU-1", "10.00", 1)]) for n in range(3)]
    wanted = [orders[0]["id"], orders[2]["id"]]

    listed = ChannelOrderEndpoint(channel_id=shop.channel_id).list(params={"pk__in": ",".join(map(str, wanted))})

    assert sorted(order.pk for order in listed) == sorted(wanted)
    assert {order.remote_id for order in listed} == {"R-SO-200", "R-SO-202"}


def test_order_created_with_currency_try_reads_back_try(shop, api):
    endpoint = ChannelOrderEndpoint(channel_id=shop.channel_id)

    created = endpoint.create(
        item=Order(
            number="SO-3001",
            remote_id="R-SO-3001",
            date_placed="2026-03-01T10:00:00Z",
            currency="try",
            amount="120.00",
            shipping_amount="20.00",
            discount_amount="0.00",
            payment_option="credit_card",
            payment_reference="TX-3001",
            customer={"email": "ayse@example.com", "first_name": "Ayse", "last_name": "Yilmaz"},
            items=[{"product": {"sku": "SKU-9", "name": "Kettle"}, "quantity": 1, "price": "100.00", "tax_rate": "20"}],
        )
    )
    read_back = endpoint.retrieve(id=created.pk)

    assert created.currency == read_back.currency == "try"
    assert (read_back.number, read_back.amount, read_back.status) == ("SO-3001", "120.00", "400")
    row = OrderRow.objects.get(pk=created.pk)
    assert (row.currency, row.amount, row.channel_id) == ("try", Decimal("120.00"), shop.channel_id)
