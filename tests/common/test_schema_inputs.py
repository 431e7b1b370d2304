"""The schema says what each input takes, as the service checks it: a client (or a fuzzer) sending what the schema
allows is not refused for its shape, and what the schema refuses is refused."""

import pytest

from common.api.idempotency import KEY_SCHEMA
from tests.common.test_schema import operations, schema  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

JSON_OBJECT = {"type": "object", "additionalProperties": {}}


@pytest.mark.parametrize(
    ("component", "field", "nullable"),
    [
        ("ChannelRequest", "conf", False),
        ("OrderCreateInputRequest", "extra_field", False),
        ("CancellationRequestInputRequest", "attributes", False),
        ("IntegrationActionCreateInputRequest", "state", False),
        ("CancellationReasonRequest", "translations", True),
    ],
)
def test_json_object_fields_are_declared_objects(schema, component, field, nullable):  # noqa: F811
    declared = schema["components"]["schemas"][component]["properties"][field]
    assert {key: declared[key] for key in JSON_OBJECT} == JSON_OBJECT
    assert declared.get("nullable", False) is nullable


@pytest.mark.parametrize(("body", "status"), [({"conf": None}, 400), ({"conf": []}, 400), ({"conf": {"a": 1}}, 201)])
def test_a_json_object_field_takes_an_object_only(staff_client, body, status):
    assert staff_client.post("/api/i1/channels/", {"name": "X", **body}, format="json").status_code == status


def test_the_idempotency_key_is_declared_with_the_characters_it_takes(schema):  # noqa: F811
    patterns = {
        (path, method): parameter["schema"].get("pattern")
        for path, method, operation in operations(schema)
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "Idempotency-Key"
    }
    assert ("/api/i1/orders/{id}/cancel/", "post") in patterns
    assert set(patterns.values()) == {KEY_SCHEMA["pattern"]}
