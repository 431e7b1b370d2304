"""The request id: kept from a safe `X-Request-ID` or made, returned in the response, on every log line of the
request (plain and JSON), and on the calls made to the financing provider. Each 4xx or 5xx is logged once."""

import io
import json
import logging
import os
import subprocess
import sys

import httpx
import pytest
from rest_framework.test import APIClient

from common.logs import JsonFormatter
from common.request_id import get_request_id, reset_request_id, set_request_id
from refunds.financing import FinancingClient
from tests.processes import ROOT, Processes, answers_ok, free_port, log_containing, wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """What the configured console handler writes, as JSON objects, while the test runs."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    stream, formatter = io.StringIO(), handler.formatter
    previous = handler.setStream(stream)
    handler.setFormatter(JsonFormatter())
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(previous)
    handler.setFormatter(formatter)


def test_a_safe_request_id_is_kept_and_returned(anon_client):
    response = anon_client.get("/api/health/", HTTP_X_REQUEST_ID="lb-7f3a:01HZX.9_a=b/c+d@e")

    assert response["X-Request-ID"] == "lb-7f3a:01HZX.9_a=b/c+d@e"


@pytest.mark.parametrize("sent", ["", "has space", "line\nbreak", 'quote"d', "x" * 129, "ünïcode", "<script>"])
def test_an_unsafe_or_long_request_id_is_replaced_not_refused(anon_client, sent):
    response = anon_client.get("/api/health/", HTTP_X_REQUEST_ID=sent)

    assert response.status_code == 200
    made = response["X-Request-ID"]
    assert made != sent
    assert len(made) == 32
    assert int(made, 16) >= 0


def test_each_request_gets_its_own_id(anon_client):
    first = anon_client.get("/api/health/")["X-Request-ID"]
    second = anon_client.get("/api/health/")["X-Request-ID"]

    assert first != second
    assert get_request_id() is None  # nothing is left behind once a response is closed


def test_json_errors_and_admin_pages_carry_it(anon_client):
    assert anon_client.get("/api/i1/nothing/", HTTP_X_REQUEST_ID="err-1")["X-Request-ID"] == "err-1"
    assert anon_client.get("/admin/", HTTP_X_REQUEST_ID="adm-1")["X-Request-ID"] == "adm-1"


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/i1/orders/", 401, "Unauthorized: /api/i1/orders/"),
        ("/api/i1/no_such_route/", 404, "Not Found: /api/i1/no_such_route/"),
    ],
)
def test_a_4xx_is_logged_once_with_the_request_id(anon_client, log_lines, path, status, message):
    response = anon_client.get(path, HTTP_X_REQUEST_ID="req-4xx")

    assert response.status_code == status
    lines = [line for line in log_lines() if path in line["message"]]
    assert lines == [
        {
            "time": lines[0]["time"],
            "level": "WARNING",
            "logger": "django.request",
            "message": message,
            "request_id": "req-4xx",
        }
    ]
    assert lines[0]["time"].endswith("+00:00")


@pytest.mark.urls("tests.common.urls_raising")
def test_a_500_is_logged_once_with_its_traceback_and_request_id(log_lines):
    response = APIClient(raise_request_exception=False).get("/api/test/broken/", HTTP_X_REQUEST_ID="req-500")

    assert response.status_code == 500
    assert response["X-Request-ID"] == "req-500"
    errors = [line for line in log_lines() if line["level"] == "ERROR"]
    assert len(errors) == 1, errors
    assert errors[0]["logger"] == "omnitron.api"
    assert errors[0]["request_id"] == "req-500"
    assert "RuntimeError: a bug" in errors[0]["exception"]


def test_log_lines_outside_a_request_say_so(log_lines):
    logging.getLogger("omnitron.test").warning("no request here")

    assert log_lines()[-1]["request_id"] == "-"


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "omnitron.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_log_format_json_writes_one_object_per_line():
    done = run_python(
        "import logging\n"
        "from common.request_id import set_request_id\n"
        "set_request_id('job-42')\n"
        "log = logging.getLogger('omnitron.sample')\n"
        "log.info('plain line %s', 1)\n"
        "try:\n"
        "    1 / 0\n"
        "except ZeroDivisionError:\n"
        "    log.exception('it broke')\n",
        LOG_FORMAT="json",
    )

    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["level"], line["logger"], line["message"], line["request_id"]) for line in lines] == [
        ("INFO", "omnitron.sample", "plain line 1", "job-42"),
        ("ERROR", "omnitron.sample", "it broke", "job-42"),
    ]
    assert "exception" not in lines[0]
    assert "ZeroDivisionError: division by zero" in lines[1]["exception"]


@pytest.mark.parametrize("log_format", ["", "plain"])
def test_plain_logs_are_the_default_and_show_the_request_id(log_format):
    done = run_python(
        "import logging\n"
        "from common.request_id import set_request_id\n"
        "set_request_id('job-7')\n"
        "logging.getLogger('omnitron.sample').warning('hello')\n",
        LOG_FORMAT=log_format,
    )

    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().endswith("WARNING omnitron.sample [job-7] hello")


def test_an_unknown_log_format_is_refused_at_start_up():
    done = run_python("", LOG_FORMAT="xml")

    assert done.returncode != 0
    assert "LOG_FORMAT must be plain or json" in done.stderr


def test_the_financing_provider_gets_the_request_id(httpserver):
    httpserver.expect_request("/financing/v1/applications/APP-1/order/cancel", method="PUT").respond_with_json({})
    token = set_request_id("req-to-provider")
    try:
        with FinancingClient(httpserver.url_for("/"), api_key="") as client:
            client.cancel("APP-1", None, idempotency_key="refund-1")
    finally:
        reset_request_id(token)
    with FinancingClient(httpserver.url_for("/"), api_key="") as client:
        client.cancel("APP-1", None, idempotency_key="refund-2")

    first, second = (request for request, _ in httpserver.log)
    assert first.headers["X-Request-ID"] == "req-to-provider"
    assert "X-Request-ID" not in second.headers  # outside a request or task, no made-up id is sent


def test_the_development_server_logs_a_4xx_once(tmp_path):
    """runserver writes an access line per request (django.server) and Django logs each 4xx (django.request): the
    access line of a 4xx is left out, so it shows up once, with the request's reason."""
    procs = Processes(tmp_path, {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "CELERY_BROKER_URL": ""})
    port = free_port()
    procs.start("runserver", [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"])
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: answers_ok(f"{base}/api/health/"), timeout=30, what="runserver")
        assert httpx.get(f"{base}/api/i1/no_such_route/", headers={"X-Request-ID": "dev-404"}).status_code == 404
        assert httpx.get(f"{base}/api/health/", headers={"X-Request-ID": "dev-200"}).status_code == 200
        log = wait_for(
            lambda: log_containing(tmp_path / "runserver.log", "dev-200"), timeout=10, what="the access line"
        )
    finally:
        print(procs.stop_all())

    lines = [line for line in log.splitlines() if "no_such_route" in line]
    assert len(lines) == 1, log
    assert lines[0].endswith("WARNING django.request [dev-404] Not Found: /api/i1/no_such_route/")
    assert 'INFO django.server [dev-200] "GET /api/health/ HTTP/1.1" 200' in log  # other answers keep their line


def test_sending_a_task_without_a_broker_logs_no_warning():
    """Without CELERY_BROKER_URL tasks run in-process; sending one used to make kombu warn "No hostname was
    supplied. Reverting to default 'localhost'" (a producer on the default amqp://localhost)."""
    done = run_python(
        "from omnitron.celery import app\n"
        "print(app.conf.broker_url)\n"
        "app.tasks['celery.accumulate'].apply_async((1, 2))\n",
        CELERY_BROKER_URL="",
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["memory://localhost/"]
    assert "WARNING" not in done.stderr, done.stderr
