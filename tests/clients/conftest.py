"""Akinon's own clients, unmodified, against one gunicorn serving HTTPS on the pytest-django PostgreSQL database.

omnisdk runs in this process; channel-app pins celery and redis versions this project cannot share, so it runs in
a venv of its own (`.venv-channel-app/`, built from channel-app-requirements.txt on first use) as a subprocess,
through `channel_app_driver.py`. channel-app refuses an Omnitron URL that is not https, so the server gets a
certificate from a CA made for the run, and the clients trust that CA through REQUESTS_CA_BUNDLE (never by turning
verification off). Refund tasks run in-process inside gunicorn, so a cancellation's refunds are done by the time
its response arrives.
"""

import fcntl
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import redis
import trustme
from django.conf import settings
from rest_framework.authtoken.models import Token

from tests.clients.support import (
    ACCESS_LOG_FORMAT,
    HTTP_TIMEOUT,
    SHOP_PASSWORD,
    SHOP_USERNAME,
    STAFF_TOKEN_KEY,
    Server,
    Shop,
)
from tests.factories import StaffUserFactory
from tests.processes import ROOT, Processes, database_url_for_subprocesses, free_port, gunicorn_command, wait_for

CHANNEL_APP_REQUIREMENTS = Path(__file__).with_name("channel-app-requirements.txt")
CHANNEL_APP_DRIVER = Path(__file__).with_name("channel_app_driver.py")
CHANNEL_APP_VENV = ROOT / ".venv-channel-app"
CHANNEL_APP_TIMEOUT = 120
# channel-app keeps the Omnitron token and its login counter (3 logins in 6 minutes) under these keys.
CHANNEL_APP_CACHE_KEYS = ("omnitron_auth_token_prefix", "retry_count")


@dataclass
class TlsFiles:
    ca_bundle: Path
    certfile: Path
    keyfile: Path


@pytest.fixture(scope="package")
def tls_files(tmp_path_factory) -> TlsFiles:
    directory = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    files = TlsFiles(
        ca_bundle=directory / "ca.pem", certfile=directory / "server.pem", keyfile=directory / "server.key"
    )
    ca.cert_pem.write_to_path(files.ca_bundle)
    server_cert.private_key_pem.write_to_path(files.keyfile)
    for pem in server_cert.cert_chain_pems:
        pem.write_to_path(files.certfile, append=True)
    return files


@pytest.fixture(scope="package")
def https_server(django_db_setup, django_db_blocker, tls_files, tmp_path_factory) -> Iterator[Server]:
    """Started once for the package, with two sync workers, DEBUG off and no broker."""
    with django_db_blocker.unblock():
        database_url = database_url_for_subprocesses()
    processes = Processes(
        tmp_path_factory.mktemp("clients-server"),
        env={
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": "",
            "DEBUG": "false",
            "SECRET_KEY": "clients-secret",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SANDBOX_GATEWAY_MODE": "succeed",
            # Connections close after each request, so the flush between transactional tests is never blocked.
            "CONN_MAX_AGE": "0",
        },
    )
    port = free_port()
    process = processes.start(
        "gunicorn",
        gunicorn_command(
            port,
            workers=2,
            timeout=30,
            extra=(
                "--certfile", str(tls_files.certfile), "--keyfile", str(tls_files.keyfile),
                "--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT,
            ),
        ),
    )  # fmt: skip
    server = Server(
        url=f"https://127.0.0.1:{port}/", ca_bundle=tls_files.ca_bundle, log_path=processes.tmp_path / "gunicorn.log"
    )

    def healthy() -> bool:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{server.log_since(0)}")
        try:
            return httpx.get(f"{server.url}api/health/", verify=server.tls_context(), timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(healthy, timeout=30, what="gunicorn over HTTPS")
        yield server
    finally:
        processes.stop_all()


@pytest.fixture
def server(https_server, monkeypatch) -> Iterator[Server]:
    """The package's server, with this process's `requests` trusting its CA only; prints the server's side of the
    test, which pytest shows when the test failed."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(https_server.ca_bundle))
    start = https_server.log_size()
    yield https_server
    print(f"--- gunicorn log ---\n{https_server.log_since(start)}")


@pytest.fixture
def http(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, verify=server.tls_context(), timeout=HTTP_TIMEOUT) as client:
        yield client


@pytest.fixture
def shop(http) -> Shop:
    """A staff token (written to the database), then over the API: two cancel reasons and a return reason, a
    channel whose conf maps channel-app's reason codes to them, and the channel's integration user."""
    Token.objects.create(user=StaffUserFactory(username="backoffice"), key=STAFF_TOKEN_KEY)
    staff = {"Authorization": f"Token {STAFF_TOKEN_KEY}"}

    reasons = {}
    for code, cancellation_type, subject in (
        ("OUT_OF_STOCK", "cancel", "Out of stock"),
        ("CHANGED_MIND", "cancel", "Customer changed their mind"),
        ("DAMAGED", "refund", "Arrived damaged"),
    ):
        response = http.post(
            "api/v1/cancellation_reasons/",
            headers=staff,
            json={"cancellation_type": cancellation_type, "subject": subject},
        )
        assert response.status_code == 201, response.text
        reasons[code] = response.json()["id"]

    conf = {
        # channel-app turns the channel's reason codes into Omnitron reason ids with this map ...
        "reason_mapping": {"OUT_OF_STOCK": reasons["OUT_OF_STOCK"], "DAMAGED": reasons["DAMAGED"]},
        # ... and falls back to this id for an order cancel whose code is not mapped.
        "cancellation_reason_id": reasons["CHANGED_MIND"],
    }
    channel = http.post(
        "api/v1/channels/", headers=staff, json={"name": "Marketplace", "channel_type": "marketplace", "conf": conf}
    )
    assert channel.status_code == 201, channel.text
    assert channel.json()["conf"] == conf

    user = http.post(
        "api/v1/users/",
        headers=staff,
        json={
            "username": SHOP_USERNAME,
            "password": SHOP_PASSWORD,
            "is_staff": False,
            "channels": [channel.json()["id"]],
        },
    )
    assert user.status_code == 201, user.text
    return Shop(
        http=http,
        channel_id=channel.json()["id"],
        username=SHOP_USERNAME,
        password=SHOP_PASSWORD,
        reasons=reasons,
        default_reason_id=reasons["CHANGED_MIND"],
    )


# channel-app ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def channel_app_python() -> Path:
    """The python of `.venv-channel-app/`, built when missing or when channel-app-requirements.txt (or this
    interpreter's version) changed since it was built. The requirements pin the whole tree, so pip installs them
    with --no-deps and no resolver run; a few seconds from pip's cache, about ten from PyPI."""
    requirements = CHANNEL_APP_REQUIREMENTS.read_bytes()
    digest = hashlib.sha256(requirements + sys.version.encode()).hexdigest()
    python = CHANNEL_APP_VENV / "bin" / "python"
    stamp = CHANNEL_APP_VENV / ".requirements-sha256"
    # One builder at a time (pytest-xdist workers share the directory).
    with (ROOT / ".venv-channel-app.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and stamp.exists() and stamp.read_text() == digest:
            return python
        _run([sys.executable, "-m", "venv", "--clear", "--without-pip", str(CHANNEL_APP_VENV)])
        pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
        _run([*pip, "install", "--quiet", "--no-deps", "--only-binary=:all:", "-r", str(CHANNEL_APP_REQUIREMENTS)])
        _run([*pip, "check"])
        stamp.write_text(digest)
    return python


def _run(command: list[str]) -> None:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture
def channel_app_cache() -> redis.Redis:
    """channel-app caches its token in Redis: the broker's server, in the database next to the broker's, with its
    two keys cleared before each run so that every run logs in afresh (the test database's tokens are flushed
    between tests)."""
    broker = urlsplit(settings.CELERY_BROKER_URL)
    broker_db = int(broker.path.strip("/") or 0)
    cache = redis.Redis(
        host=broker.hostname or "127.0.0.1", port=broker.port or 6379, db=broker_db + 1 if broker_db < 15 else 14
    )
    yield cache
    cache.delete(*CHANNEL_APP_CACHE_KEYS)
    cache.close()


@dataclass
class ChannelAppRun:
    """What the driver printed: the command's result, the integration's batch request after the command, and
    every error channel-app logged (it logs a failed command and returns an empty result rather than raising)."""

    result: list
    batch_request: dict | None
    errors: list[str]
    stderr: str


@pytest.fixture
def channel_app(server, shop, channel_app_python, channel_app_cache, tmp_path) -> Callable[..., ChannelAppRun]:
    """Runs one command of channel-app's OmnitronIntegration as the shop's integration user."""
    connection = channel_app_cache.connection_pool.connection_kwargs

    def run(command: str, *, content_type: str, objects) -> ChannelAppRun:
        channel_app_cache.delete(*CHANNEL_APP_CACHE_KEYS)
        env = {
            **os.environ,
            "REQUESTS_CA_BUNDLE": str(server.ca_bundle),
            "OMNITRON_URL": server.url,
            "OMNITRON_CHANNEL_ID": str(shop.channel_id),
            "OMNITRON_USERNAME": shop.username,
            "OMNITRON_PASSWORD": shop.password,
            "OMNITRON_CATALOG_ID": "1",
            "OMNITRON_MODULE": "channel_app.omnitron.integration",
            "CHANNEL_MODULE": "channel_app.channel.integration",
            "CACHE_HOST": str(connection["host"]),
            "CACHE_PORT": str(connection["port"]),
            "CACHE_DATABASE_INDEX": str(connection["db"]),
            "SENTRY_DSN": "",
        }
        done = subprocess.run(
            [str(channel_app_python), str(CHANNEL_APP_DRIVER)],
            input=json.dumps({"command": command, "content_type": content_type, "objects": objects}),
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=CHANNEL_APP_TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, f"channel-app {command} exited with {done.returncode}:\n{done.stderr}"
        output = json.loads(done.stdout)
        return ChannelAppRun(**output, stderr=done.stderr)

    return run
