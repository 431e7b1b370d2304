import os

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import ChannelFactory, StaffUserFactory, TokenFactory, UserFactory


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With OMNITRON_FORBID_SKIPS=1 (the PostgreSQL run in CI) a skipped test fails: nothing may hide there."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("OMNITRON_FORBID_SKIPS") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"Skipped, but skips are forbidden in this run: {report.longrepr}"


def pytest_collection_modifyitems(config, items):
    """`postgres` tests need row locks and concurrent transactions, which SQLite cannot show; `redis` tests need
    a real broker. Both skip in the embedded set-up and run in CI's second pass, where skips are failures."""
    skips = {}
    if connection.vendor != "postgresql":
        skips["postgres"] = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://...)")
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        skips["redis"] = pytest.mark.skip(reason="needs a Redis broker (CELERY_BROKER_URL=redis://...)")
    for item in items:
        for marker, skip in skips.items():
            if marker in item.keywords:
                item.add_marker(skip)


def auth_client(user) -> APIClient:
    client = APIClient()
    token = TokenFactory(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def channel(db):
    return ChannelFactory(name="Web shop")


@pytest.fixture
def other_channel(db):
    return ChannelFactory(name="Marketplace", channel_type="marketplace")


@pytest.fixture
def staff(db):
    return StaffUserFactory(username="backoffice")


@pytest.fixture
def channel_user(db, channel):
    return UserFactory(username="shop", channels=[channel])


@pytest.fixture
def staff_client(staff):
    return auth_client(staff)


@pytest.fixture
def channel_client(channel_user):
    return auth_client(channel_user)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashers take a quarter of a second per password by design; the suite creates hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _tasks_in_process(request):
    """Tasks run in-process, whatever broker is configured, except in tests marked `real_broker` that start a
    worker of their own."""
    from omnitron.celery import app

    if "real_broker" in request.keywords:
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _clear_cache():
    """The cache holds login-failure counters: one test's failed logins never throttle the next test."""
    from django.core.cache import cache

    cache.clear()
