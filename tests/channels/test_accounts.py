"""Logins are throttled per username and per client address, tokens can be revoked and may expire, and production
settings pass Django's deployment checks."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.processes import ROOT

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-password-1"


@pytest.fixture(autouse=True)
def _fresh_counters(settings):
    cache.clear()
    settings.LOGIN_FAILURES_PER_USERNAME = 5
    settings.LOGIN_FAILURES_PER_ADDRESS = 12
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 300
    yield
    cache.clear()


@pytest.fixture
def shop_user():
    user = UserFactory(username="shop")
    user.set_password(PASSWORD)
    user.save()
    return user


def login(client, username, password, address="10.0.0.1"):
    return client.post(
        "/api/i1/auth/login/", {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def test_too_many_wrong_passwords_for_a_username_are_429_with_retry_after(anon_client, shop_user):
    statuses = [login(anon_client, "shop", "wrong").status_code for _ in range(5)]
    throttled = login(anon_client, "shop", PASSWORD)  # even the right password, from now on

    assert statuses == [400] * 5
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 300
    assert throttled.json()["code"] == "throttled"
    assert not Token.objects.filter(user=shop_user).exists()


def test_the_window_ends(anon_client, shop_user, settings):
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 1
    for _ in range(5):
        login(anon_client, "shop", "wrong")
    assert login(anon_client, "shop", PASSWORD).status_code == 429

    time.sleep(1.1)  # the window ends
    assert login(anon_client, "shop", PASSWORD).status_code == 200


def test_one_address_guessing_many_usernames_is_throttled_too(anon_client, shop_user):
    for number in range(12):
        login(anon_client, f"user-{number}", "wrong", address="10.9.9.9")

    assert login(anon_client, "shop", PASSWORD, address="10.9.9.9").status_code == 429
    assert login(anon_client, "shop", PASSWORD, address="10.0.0.2").status_code == 200  # another address may


def test_a_right_password_clears_the_usernames_failures(anon_client, shop_user):
    for _ in range(4):
        login(anon_client, "shop", "wrong")
    assert login(anon_client, "shop", PASSWORD).status_code == 200
    for _ in range(4):
        assert login(anon_client, "shop", "wrong").status_code == 400


def test_the_admin_login_is_throttled(client, shop_user):
    for _ in range(5):
        client.post("/admin/login/", {"username": "shop", "password": "wrong"}, REMOTE_ADDR="10.0.0.3")

    response = client.post("/admin/login/", {"username": "shop", "password": PASSWORD}, REMOTE_ADDR="10.0.0.3")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize("prefix", ["/api/i1", "/api/v1"])
def test_logout_revokes_the_token(shop_user, prefix):
    key = login(APIClient(), "shop", PASSWORD).json()["key"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert client.post(f"{prefix}/auth/logout/").status_code == 204
    assert client.get(f"{prefix}/active_user/").status_code == 401
    assert APIClient().post(f"{prefix}/auth/logout/").status_code == 401


def test_tokens_expire_when_a_lifetime_is_set(shop_user, settings):
    key = login(APIClient(), "shop", PASSWORD).json()["key"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/i1/active_user/").status_code == 200

    settings.TOKEN_TTL_HOURS = 12
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(hours=13))

    assert client.get("/api/i1/active_user/").status_code == 401
    assert not Token.objects.filter(key=key).exists()
    assert login(APIClient(), "shop", PASSWORD).json()["key"] != key  # a new login, a new token


def test_production_settings_pass_the_deployment_checks():
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-enough-0123456789abcdef",
        "ALLOWED_HOSTS": "api.example.com",
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
    }

    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stdout + done.stderr
