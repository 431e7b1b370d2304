"""A URL longer than the service takes is a JSON 414, as every API error is; gunicorn, which would answer a request
line over 4094 bytes with an HTML page of its own, leaves the decision to the service (gunicorn.conf.py)."""

import subprocess

import httpx
import pytest

from common.api.middleware import MAX_URL_LENGTH
from tests.common.test_json_errors import assert_json_error
from tests.processes import ROOT, free_port, gunicorn_command, wait_for

pytestmark = pytest.mark.django_db


def long_query(length: int) -> str:
    return "number=" + "x" * (length - len("/api/i1/orders/?number="))


def test_a_url_over_the_limit_is_json_414(staff_client):
    assert_json_error(staff_client.get(f"/api/i1/orders/?{long_query(MAX_URL_LENGTH + 1)}"), 414, "uri_too_long")


def test_a_url_at_the_limit_is_served(staff_client):
    assert staff_client.get(f"/api/i1/orders/?{long_query(MAX_URL_LENGTH)}").status_code == 200


@pytest.fixture(scope="module")
def gunicorn_url(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with log.open("wb") as out:
        # The working directory is the project's, as everywhere gunicorn serves it: it reads gunicorn.conf.py there.
        process = subprocess.Popen(gunicorn_command(port, workers=1), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return httpx.get(f"{url}/api/nothing-here/", timeout=2).status_code == 404
        except httpx.HTTPError:
            return False

    try:
        wait_for(answering, timeout=60, what="gunicorn")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.mark.parametrize(
    ("length", "status", "code"),
    [
        (6000, 401, "not_authenticated"),  # over gunicorn's default limit: the service answers
        (MAX_URL_LENGTH + 1, 414, "uri_too_long"),
        (50_000, 414, "uri_too_long"),
    ],
)
def test_gunicorn_leaves_long_urls_to_the_service(gunicorn_url, length, status, code):
    response = httpx.get(f"{gunicorn_url}/api/i1/orders/?{long_query(length)}", timeout=30)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
    assert response.json()["code"] == code
