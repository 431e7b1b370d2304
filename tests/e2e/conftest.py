"""One gunicorn (two sync workers) for every end-to-end module, on the pytest-django PostgreSQL database.

The server is a separate process, so every row it must see is committed (transactional tests). Refund tasks run
in-process inside gunicorn (no broker), so a cancellation's refunds have completed by the time its response arrives.
"""

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tests.e2e.support import CHANNEL_USER_PASSWORD, STAFF_PASSWORD, Server, World, auth, login
from tests.processes import database_url_for_subprocesses, free_port, gunicorn_command

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 20.0
HTTP_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


@pytest.fixture(scope="package")
def gunicorn_server(django_db_setup, django_db_blocker) -> Iterator[Server]:
    """Started once for the whole package; every test module of tests/e2e talks to it."""
    with django_db_blocker.unblock():
        database_url = database_url_for_subprocesses()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": "",
        "DEBUG": "false",
        "SECRET_KEY": "e2e-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SANDBOX_GATEWAY_MODE": "succeed",
        # Connections close after each request, so the flush between transactional tests is never blocked.
        "CONN_MAX_AGE": "0",
    }
    command = gunicorn_command(port, workers=2, timeout=30, extra=("--access-logfile", "-"))
    with tempfile.TemporaryDirectory(prefix="omnitron-e2e-") as tmp:
        server = Server(url=f"http://127.0.0.1:{port}", log_path=Path(tmp) / "gunicorn.log")
        # A file, not a pipe: a chatty server can never block on a full pipe buffer.
        with server.log_path.open("wb") as log_file:
            process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            _wait_until_healthy(server, process)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _wait_until_healthy(server: Server, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{server.log()}")
        try:
            response = httpx.get(f"{server.url}/api/health/", timeout=1.0)
            if response.status_code == 200:
                return
            last_error = f"{response.status_code} {response.text}"
        except httpx.TransportError as exc:
            last_error = repr(exc)
        time.sleep(0.2)
    pytest.fail(f"gunicorn not healthy after {STARTUP_TIMEOUT}s ({last_error}):\n{server.log()}")


@pytest.fixture
def http(gunicorn_server) -> Iterator[httpx.Client]:
    start = gunicorn_server.log_path.stat().st_size
    with httpx.Client(base_url=gunicorn_server.url, timeout=HTTP_TIMEOUT) as client:
        yield client
    # Shown by pytest only when the test failed: the server's side of this test.
    with gunicorn_server.log_path.open(errors="replace") as log:
        log.seek(start)
        print(f"--- gunicorn log ---\n{log.read()}")


@pytest.fixture
def world(http) -> World:
    """A staff user (the only row not made over HTTP), two channels and a channel user linked to the first."""
    hasher = PBKDF2PasswordHasher()  # the server's hasher; the suite's fast MD5 setting does not reach gunicorn
    get_user_model().objects.create(
        username="backoffice", is_staff=True, password=hasher.encode(STAFF_PASSWORD, hasher.salt())
    )
    staff = auth(login(http, "backoffice", STAFF_PASSWORD))

    channel_ids = []
    for name, channel_type in (("Web shop", "web"), ("Marketplace", "marketplace")):
        created = http.post(
            "/api/i1/channels/", headers=staff, json={"name": name, "channel_type": channel_type, "conf": {}}
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert set(body) == {"id", "name", "channel_type", "conf", "is_active", "created_date", "modified_date"}
        assert (body["name"], body["channel_type"], body["conf"], body["is_active"]) == (name, channel_type, {}, True)
        channel_ids.append(body["id"])

    user = http.post(
        "/api/i1/users/",
        headers=staff,
        json={"username": "shop", "password": CHANNEL_USER_PASSWORD, "is_staff": False, "channels": [channel_ids[0]]},
    )
    assert user.status_code == 201, user.text
    assert set(user.json()) == {"id", "username", "is_staff", "channels"}
    assert (user.json()["username"], user.json()["is_staff"], user.json()["channels"]) == (
        "shop",
        False,
        [channel_ids[0]],
    )
    shop = auth(login(http, "shop", CHANNEL_USER_PASSWORD))
    return World(staff=staff, shop=shop, channel_id=channel_ids[0], other_channel_id=channel_ids[1])
