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
