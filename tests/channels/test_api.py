import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from channels.models import Channel
from tests.conftest import auth_client
from tests.factories import ChannelFactory, UserFactory, order_with_items

pytestmark = pytest.mark.django_db
User = get_user_model()


class TestLogin:
    def test_login_returns_a_token_that_authenticates(self, anon_client, channel):
        user = UserFactory(username="shop", channels=[channel])

        response = anon_client.post(
            "/api/i1/auth/login/", {"username": "shop", "password": "correct-horse-battery"}, format="json"
        )

        assert response.status_code == 200
        key = response.json()["key"]
        assert Token.objects.get(user=user).key == key
        anon_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert anon_client.get(f"/api/channel/{channel.pk}/orders/").status_code == 200

    def test_logging_in_twice_gives_the_same_key(self, anon_client, staff):
        body = {"username": staff.username, "password": "correct-horse-battery"}
        first = anon_client.post("/api/i1/auth/login/", body, format="json").json()["key"]
        assert anon_client.post("/api/i1/auth/login/", body, format="json").json()["key"] == first

    @pytest.mark.parametrize(
        "body",
        [
            {"username": "backoffice", "password": "wrong"},
            {"username": "nobody", "password": "correct-horse-battery"},
            {"username": "backoffice"},
            {},
        ],
    )
    def test_bad_credentials_are_400(self, anon_client, staff, body):
        response = anon_client.post("/api/i1/auth/login/", body, format="json")
        assert response.status_code == 400
        assert not Token.objects.exists()

    def test_inactive_user_cannot_log_in(self, anon_client, staff):
        staff.is_active = False
        staff.save()
        body = {"username": staff.username, "password": "correct-horse-battery"}
        assert anon_client.post("/api/i1/auth/login/", body, format="json").status_code == 400


class TestChannels:
    def test_crud(self, staff_client):
        created = staff_client.post(
            "/api/i1/channels/",
            {"name": "Trendyol", "channel_type": "marketplace", "conf": {"cancellation_strategy": "default"}},
            format="json",
        )
        assert created.status_code == 201
        body = created.json()
        assert set(body) == {
            "id",
            "name",
            "channel_type",
            "conf",
            "is_active",
            "created_date",
            "modified_date",
        }
        assert body["is_active"] is True

        patched = staff_client.patch(f"/api/i1/channels/{body['id']}/", {"is_active": False}, format="json")
        assert patched.json()["is_active"] is False
        assert staff_client.get("/api/i1/channels/?is_active=false").json()["count"] == 1
        assert staff_client.delete(f"/api/i1/channels/{body['id']}/").status_code == 204
        assert not Channel.objects.filter(pk=body["id"]).exists()

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": "X", "channel_type": "fax"}, "channel_type"),
            ({"name": "X", "conf": [1, 2]}, "conf"),
            ({"name": "X", "conf": "text"}, "conf"),
            ({"channel_type": "web"}, "name"),
        ],
    )
    def test_bad_input_is_400(self, staff_client, body, field):
        response = staff_client.post("/api/i1/channels/", body, format="json")
        assert response.status_code == 400
        assert field in response.json()
        assert not Channel.objects.exists()

    def test_a_channel_with_orders_cannot_be_deleted(self, staff_client, channel):
        order_with_items(channel=channel)

        response = staff_client.delete(f"/api/i1/channels/{channel.pk}/")

        assert response.status_code == 400
        assert response.json()["code"] == "channel_in_use"
        assert Channel.objects.filter(pk=channel.pk).exists()


class TestUsers:
    def test_create_a_channel_user(self, staff_client, channel):
        response = staff_client.post(
            "/api/i1/users/",
            {
                "username": "shop2",
                "password": "s3cure-enough-pass",
                "is_staff": False,
                "channels": [channel.pk],
            },
            format="json",
        )

        assert response.status_code == 201
        assert response.json() == {
            "id": response.json()["id"],
            "username": "shop2",
            "is_staff": False,
            "channels": [channel.pk],
        }
        user = User.objects.get(username="shop2")
        assert user.check_password("s3cure-enough-pass")
        assert auth_client(user).get(f"/api/channel/{channel.pk}/orders/").status_code == 200

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"username": "x", "password": "123"}, "password"),
            ({"username": "x", "password": "s3cure-enough-pass", "channels": [999]}, "channels"),
            ({"username": "x", "password": "s3cure-enough-pass", "channels": "1"}, "channels"),
            ({"username": "backoffice", "password": "s3cure-enough-pass"}, "username"),
            ({"password": "s3cure-enough-pass"}, "username"),
            ({"username": "x"}, "password"),
        ],
    )
    def test_bad_input_is_400(self, staff_client, body, field):
        before = User.objects.count()
        response = staff_client.post("/api/i1/users/", body, format="json")
        assert response.status_code == 400
        assert field in response.json()
        assert User.objects.count() == before

    def test_list_retrieve_patch_delete(self, staff_client, channel):
        user = UserFactory(username="shop3")
        other = ChannelFactory()

        assert staff_client.get("/api/i1/users/").json()["count"] == 2
        assert staff_client.get(f"/api/i1/users/{user.pk}/").json()["username"] == "shop3"
        patched = staff_client.patch(f"/api/i1/users/{user.pk}/", {"channels": [channel.pk, other.pk]}, format="json")
        assert sorted(patched.json()["channels"]) == sorted([channel.pk, other.pk])
        assert "password" not in patched.json()
        assert staff_client.delete(f"/api/i1/users/{user.pk}/").status_code == 204
        assert not User.objects.filter(pk=user.pk).exists()

    def test_password_change_revokes_the_token(self, staff_client, channel):
        user = UserFactory(channels=[channel])
        client = auth_client(user)

        response = staff_client.patch(f"/api/i1/users/{user.pk}/", {"password": "an0ther-good-pass"}, format="json")

        assert response.status_code == 200
        assert client.get(f"/api/channel/{channel.pk}/orders/").status_code == 401
        user.refresh_from_db()
        assert user.check_password("an0ther-good-pass")

    def test_staff_cannot_delete_itself(self, staff_client, staff):
        response = staff_client.delete(f"/api/i1/users/{staff.pk}/")
        assert response.status_code == 400
        assert response.json()["code"] == "cannot_delete_self"
        assert User.objects.filter(pk=staff.pk).exists()
