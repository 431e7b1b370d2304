"""The OpenAPI schema declares the errors every operation can give, so clients (and fuzzers) know them."""

import pytest
import yaml

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(anon_client):
    return yaml.safe_load(anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi").content)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_every_operation_declares_its_errors(schema):
    missing = []
    for path, method, operation in operations(schema):
        expected = {"413"}
        if (path, method) not in {("/api/i1/auth/login/", "post"), ("/api/health/", "get")}:
            expected |= {"401", "403"}
        if "{" in path:
            expected.add("404")
        if method in ("post", "put", "patch"):
            expected.add("400")
        absent = expected - set(operation["responses"])
        if absent:
            missing.append(f"{method.upper()} {path}: {sorted(absent)}")
    assert missing == []


def test_errors_are_described_as_json_with_a_code(schema):
    assert schema["components"]["schemas"]["Error"]["required"] == ["code"]
    login = schema["paths"]["/api/i1/auth/login/"]["post"]["responses"]
    assert {"400", "429"} <= set(login)


# Found by `make fuzz` (schemathesis): the schema allowed values the service refuses, and left out a 404 it gives.
def test_a_list_declares_the_404_of_a_page_past_the_end(schema, staff_client):
    assert "404" in schema["paths"]["/api/i1/orders/"]["get"]["responses"]
    assert staff_client.get("/api/i1/orders/?page=999").status_code == 404


def test_limit_page_and_id_filters_are_declared_from_1(schema, staff_client):
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/i1/orders/"]["get"]["parameters"]}
    assert parameters["limit"]["minimum"] == parameters["page"]["minimum"] == 1
    assert parameters["channel"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    assert parameters["pk__in"]["items"]["minimum"] == 1
    for query in ("limit=0", "page=0", "channel=0", "pk__in=0"):
        assert staff_client.get(f"/api/i1/orders/?{query}").status_code == 400, query
