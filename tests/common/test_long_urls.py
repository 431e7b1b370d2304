"""A URL longer than the service takes is a JSON 414, as every API error is; gunicorn, which would answer a request
line over 4094 bytes with an HTML page of its own, leaves the decision to the service (gunicorn.conf.py)."""

import httpx
import pytest

from common.api.middleware import MAX_URL_LENGTH
from tests.common.test_json_errors import assert_json_error
from tests.processes import Processes

pytestmark = pytest.mark.django_db


def long_query(length: int) -> str:
    return "number=" + "x" * (length - len("/api/i1/orders/?number="))


def test_a_url_over_the_limit_is_json_414(staff_client):
    assert_json_error(staff_client.get(f"/api/i1/orders/?{long_query(MAX_URL_LENGTH + 1)}"), 414, "uri_too_long")


def test_a_url_at_the_limit_is_served(staff_client):
    assert staff_client.get(f"/api/i1/orders/?{long_query(MAX_URL_LENGTH)}").status_code == 200


@pytest.fixture(scope="module")
def gunicorn_url(tmp_path_factory):
    # Processes serves from the project's directory, as everywhere gunicorn serves it: it reads gunicorn.conf.py there.
    tmp = tmp_path_factory.mktemp("gunicorn")
    procs = Processes(tmp, {"DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}", "CELERY_BROKER_URL": ""})
    try:
        yield procs.gunicorn(workers=1)
    finally:
        print(procs.stop_all())  # shown when a test failed


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
