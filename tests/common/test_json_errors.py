"""Under /api/ every error is JSON `{"detail", "code"}`: clients such as omnisdk parse every error body."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def assert_json_error(response, status: int, code: str):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert body["code"] == code
    assert body["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/nothing-here/",
        "/api/i1/no_such_resource/",
        "/api/v1/no_such_resource/",
        "/api/channel/1/no_such_resource/",
        "/api/i1/orders/abc/",  # the id pattern refuses it
        "/api/i1/orders/1234567890123456789012/",  # longer than a bigint
        "/api/v1/channel/x/orders/",
        "/api/i1/orders/1/cancel/nope/",
    ],
)
def test_unknown_paths_are_json_404(staff_client, path):
    assert_json_error(staff_client.get(path), 404, "not_found")


def test_an_unknown_object_is_json_404(staff_client):
    assert_json_error(staff_client.get("/api/i1/orders/999999/"), 404, "not_found")


def test_a_method_no_route_takes_is_json_405(staff_client):
    assert_json_error(staff_client.delete("/api/i1/orders/"), 405, "method_not_allowed")


def test_drf_errors_carry_a_code_too(anon_client, channel_client):
    assert_json_error(anon_client.get("/api/i1/orders/"), 401, "not_authenticated")
    assert_json_error(channel_client.get("/api/i1/orders/"), 403, "permission_denied")


def test_a_write_to_a_path_without_its_slash_is_json_404_not_a_redirect(staff_client, channel):
    response = staff_client.post(f"/api/channel/{channel.pk}/orders", {}, format="json")
    assert_json_error(response, 404, "not_found")


def test_an_oversized_body_is_json_413_and_never_read(staff_client, channel, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = staff_client.post(f"/api/channel/{channel.pk}/orders/", {"number": "x" * 2000}, format="json")
    assert_json_error(response, 413, "request_too_large")


def test_a_malformed_content_length_is_json_400(staff_client):
    response = staff_client.generic("POST", "/api/i1/auth/login/", b"{}", CONTENT_LENGTH="lots")
    assert_json_error(response, 400, "bad_request")


@pytest.mark.urls("tests.common.urls_raising")
@pytest.mark.parametrize("path", ["/api/test/broken/", "/api/test/broken-plain/"])
def test_an_unexpected_error_is_json_500_and_logged(path, caplog):
    client = APIClient(raise_request_exception=False)

    response = client.get(path)

    assert_json_error(response, 500, "server_error")
    assert "bug" not in response.content.decode()  # nothing of the fault leaks to the client
    assert any(record.name == "omnitron.api" and record.exc_info for record in caplog.records)


def test_admin_pages_keep_django_html(client):
    response = client.get("/admin/no-such-page/")
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("prefix", ["/api/i1", "/api/v1"])
def test_login_works_under_both_prefixes(anon_client, staff, prefix):
    staff.set_password("a-long-password-1")
    staff.save()

    response = anon_client.post(
        f"{prefix}/auth/login/", {"username": staff.username, "password": "a-long-password-1"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["key"]


def test_the_schema_documents_each_route_once_under_its_canonical_prefix(anon_client):
    schema = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert "/api/i1/active_user/" in schema["paths"]
    assert "/api/channel/{channel_id}/order_items/" in schema["paths"]
    assert not [path for path in schema["paths"] if path.startswith("/api/v1/")]
