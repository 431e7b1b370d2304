import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_builds_and_names_the_contract_paths(anon_client):
    response = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    for path in [
        "/api/i1/auth/login/",
        "/api/i1/channels/",
        "/api/i1/users/{id}/",
        "/api/i1/orders/",
        "/api/i1/order_items/{id}/",
        "/api/i1/cancellation_reasons/{id}/",
        "/api/channel/{channel_id}/orders/",
        "/api/channel/{channel_id}/order_items/{id}/",
        "/api/channel/{channel_id}/cancellation_reasons/",
        "/api/health/",
    ]:
        assert path in paths, path
    order_list_params = {p["name"] for p in paths["/api/i1/orders/"]["get"]["parameters"]}
    assert {
        "limit",
        "page",
        "number",
        "status",
        "cancel_status",
        "channel",
        "customer_email",
        "date_placed__gte",
        "date_placed__lte",
    } <= order_list_params


def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert (tmp_path / "schema.yml").stat().st_size > 1000


def test_swagger_ui_loads(anon_client):
    assert anon_client.get("/api/docs/").status_code == 200


def test_health_reports_the_database(anon_client, settings):
    settings.CELERY_BROKER_URL = ""

    response = anon_client.get("/api/health/")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"
    assert response.json()["broker"].startswith("not configured")


def test_health_is_503_when_the_broker_is_unreachable(anon_client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.BROKER_HEALTH_TIMEOUT = 0.5

    response = anon_client.get("/api/health/")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["broker"].startswith("error")
    assert response.json()["database"] == "ok"


@pytest.mark.redis
def test_health_checks_the_configured_broker(anon_client):
    response = anon_client.get("/api/health/")

    assert response.status_code == 200
    assert response.json()["broker"] == "ok"
