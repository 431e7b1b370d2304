"""The permission rules of the contract, over every endpoint: 401 without a token, 403 for a path the user may
not use, 404 for another channel's object, 200 where allowed."""

import pytest

from tests.conftest import auth_client
from tests.factories import (
    CancellationReasonFactory,
    ChannelFactory,
    StaffUserFactory,
    UserFactory,
    order_with_items,
)

pytestmark = pytest.mark.django_db

STAFF_ONLY_PATHS = [
    "/api/i1/users/",
    "/api/i1/users/{staff}/",
    "/api/i1/orders/",
    "/api/i1/orders/{order}/",
    "/api/i1/order_items/{item}/",
    "/api/i1/cancellation_reasons/",
    "/api/i1/cancellation_reasons/{reason}/",
]

CHANNEL_PATHS = [
    "/api/channel/{channel}/orders/",
    "/api/channel/{channel}/orders/{order}/",
    "/api/channel/{channel}/order_items/{item}/",
    "/api/channel/{channel}/cancellation_reasons/",
    "/api/channel/{channel}/cancellation_reasons/{reason}/",
]


def with_v1_aliases(paths):
    """Every route is also served under /api/v1/ (Omnitron's clients), under the same rules."""
    aliases = [p.replace("/api/i1/", "/api/v1/").replace("/api/channel/", "/api/v1/channel/") for p in paths]
    return paths + aliases


STAFF_ONLY_PATHS = with_v1_aliases(STAFF_ONLY_PATHS)
CHANNEL_PATHS = with_v1_aliases(CHANNEL_PATHS)


@pytest.fixture
def world(db):
    channel = ChannelFactory()
    other = ChannelFactory()
    order = order_with_items(channel=channel)
    foreign_order = order_with_items(channel=other)
    return {
        "channel": channel,
        "other": other,
        "order": order,
        "foreign_order": foreign_order,
        "staff_user": StaffUserFactory(),
        "channel_user": UserFactory(channels=[channel]),
        "reason": CancellationReasonFactory(),
    }


def fill(path, world, channel=None, order=None):
    order = order or world["order"]
    return path.format(
        channel=(channel or world["channel"]).pk,
        staff=world["staff_user"].pk,
        order=order.pk,
        item=order.items.first().pk,
        reason=world["reason"].pk,
    )


@pytest.mark.parametrize("path", STAFF_ONLY_PATHS + CHANNEL_PATHS)
def test_anonymous_and_bad_token_get_401(anon_client, world, path):
    assert anon_client.get(fill(path, world)).status_code == 401
    anon_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert anon_client.get(fill(path, world)).status_code == 401


@pytest.mark.parametrize("path", STAFF_ONLY_PATHS)
def test_channel_user_gets_403_on_back_office_paths(world, path):
    client = auth_client(world["channel_user"])
    assert client.get(fill(path, world)).status_code == 403


@pytest.mark.parametrize("path", STAFF_ONLY_PATHS)
def test_staff_reaches_back_office_paths(world, path):
    client = auth_client(world["staff_user"])
    assert client.get(fill(path, world)).status_code == 200


@pytest.mark.parametrize("path", CHANNEL_PATHS)
def test_channel_user_reaches_its_own_channel(world, path):
    client = auth_client(world["channel_user"])
    assert client.get(fill(path, world)).status_code == 200


@pytest.mark.parametrize("path", CHANNEL_PATHS)
def test_channel_user_gets_403_on_another_channel(world, path):
    client = auth_client(world["channel_user"])
    response = client.get(fill(path, world, channel=world["other"], order=world["foreign_order"]))
    assert response.status_code == 403


@pytest.mark.parametrize("path", CHANNEL_PATHS)
def test_channel_user_gets_403_on_a_channel_that_does_not_exist(world, path):
    client = auth_client(world["channel_user"])
    path = fill(path, world).replace(f"/channel/{world['channel'].pk}/", "/channel/999999/")
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", CHANNEL_PATHS)
def test_staff_reaches_every_channel_and_gets_404_for_an_unknown_one(world, path):
    client = auth_client(world["staff_user"])
    assert client.get(fill(path, world)).status_code == 200
    path = fill(path, world).replace(f"/channel/{world['channel'].pk}/", "/channel/999999/")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "path", ["/api/channel/{channel}/orders/{order}/", "/api/channel/{channel}/order_items/{item}/"]
)
@pytest.mark.parametrize("who", ["channel_user", "staff_user"])
def test_another_channels_object_under_own_path_is_404(world, path, who):
    client = auth_client(world[who])
    assert client.get(fill(path, world, order=world["foreign_order"])).status_code == 404
    # and PATCH cannot reach it either, nor change it
    item = world["foreign_order"].items.first()
    response = client.patch(fill(path, world, order=world["foreign_order"]), {"status": "450"}, format="json")
    assert response.status_code in (404, 405)
    item.refresh_from_db()
    assert item.status == "400"


def test_channel_user_cannot_patch_on_back_office_path(world):
    client = auth_client(world["channel_user"])
    item = world["order"].items.first()
    response = client.patch(f"/api/i1/order_items/{item.pk}/", {"status": "450"}, format="json")
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.status == "400"


def test_channel_user_cannot_create_orders_on_another_channel(world):
    client = auth_client(world["channel_user"])
    response = client.post(f"/api/channel/{world['other'].pk}/orders/", {}, format="json")
    assert response.status_code == 403


def test_inactive_user_token_is_refused(world):
    client = auth_client(world["channel_user"])
    world["channel_user"].is_active = False
    world["channel_user"].save()
    assert client.get(fill("/api/channel/{channel}/orders/", world)).status_code == 401


@pytest.mark.parametrize("prefix", ["/api/i1", "/api/v1"])
def test_channel_user_reads_its_own_channels_only_and_changes_none(world, prefix):
    client = auth_client(world["channel_user"])
    own, other = world["channel"], world["other"]

    listed = client.get(f"{prefix}/channels/")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [own.pk]
    assert client.get(f"{prefix}/channels/{own.pk}/").json()["conf"] == own.conf
    assert client.get(f"{prefix}/channels/{other.pk}/").status_code == 403
    assert client.patch(f"{prefix}/channels/{own.pk}/", {"name": "Renamed"}, format="json").status_code == 403
    assert client.delete(f"{prefix}/channels/{own.pk}/").status_code == 403
    assert client.post(f"{prefix}/channels/", {"name": "New"}, format="json").status_code == 403
    own.refresh_from_db()
    assert own.name != "Renamed"


@pytest.mark.parametrize("prefix", ["/api/i1", "/api/v1"])
def test_active_user_is_the_token_user(world, prefix, anon_client):
    channel_user, staff_user = world["channel_user"], world["staff_user"]

    mine = auth_client(channel_user).get(f"{prefix}/active_user/")
    staffs = auth_client(staff_user).get(f"{prefix}/active_user/")

    assert mine.status_code == 200
    assert mine.json() == {
        "id": channel_user.pk,
        "pk": channel_user.pk,
        "username": channel_user.username,
        "is_staff": False,
        "channels": [world["channel"].pk],
    }
    assert (staffs.json()["id"], staffs.json()["is_staff"]) == (staff_user.pk, True)
    assert anon_client.get(f"{prefix}/active_user/").status_code == 401
