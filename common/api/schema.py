ALIAS_PREFIX = "/api/v1/"


def drop_alias_routes(endpoints):
    """drf-spectacular preprocessing hook: leave the `/api/v1/` aliases out, each route is documented once under its
    canonical prefix."""
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith(ALIAS_PREFIX)]


ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error under /api/: `detail` (or field errors keyed by field name) and a stable `code`.",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["code"],
    "additionalProperties": True,
}
# The errors any operation may answer, by when they apply.
ERRORS_FOR_EVERY_OPERATION = {
    "401": "No token, or a bad one.",
    "403": "The user may not use this path (a channel user on the back office, or on another channel).",
    "413": "The request body is too large.",
    "414": "The URL is too long.",
}
ERRORS_WITH_PATH_PARAMETERS = {"404": "No such object, or it belongs to another channel."}
ERRORS_OF_LISTS = {"404": "A page past the end of the list."}
ERRORS_WITH_INPUT = {"400": "Invalid input or a refused rule; the body names the field and carries a `code`."}
PUBLIC_OPERATIONS = {("/api/i1/auth/login/", "post"), ("/api/health/", "get")}


def declare_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation declares the errors the service can give it (JSON
    bodies `{"detail", "code"}`), unless the operation already describes them in its own words."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR_SCHEMA)
    reference = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            errors = dict(ERRORS_FOR_EVERY_OPERATION)
            if (path, method) in PUBLIC_OPERATIONS:
                errors.pop("401")
                errors.pop("403")
            if "{" in path:
                errors.update(ERRORS_WITH_PATH_PARAMETERS)
            elif any(parameter.get("name") == "page" for parameter in operation.get("parameters", [])):
                errors.update(ERRORS_OF_LISTS)
            if method != "delete" or operation.get("parameters"):
                errors.update(ERRORS_WITH_INPUT)
            responses = operation.setdefault("responses", {})
            for status, description in errors.items():
                responses.setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": reference}}}
                )
    return result
