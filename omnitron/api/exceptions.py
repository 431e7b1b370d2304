from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from omnitron.errors import ApplicationError


def exception_handler(exc, context):
    """DRF's handler, plus ApplicationError -> 400 with its `code`, and Django validation errors -> 400."""
    if isinstance(exc, ApplicationError):
        key = exc.field or "non_field_errors"
        body = {key: [exc.message], "code": exc.code, **exc.extra}
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, RecursionError):
        # JSON nested too deep for the parser: malformed input, not a server fault.
        return Response({"detail": "The JSON body is nested too deeply.", "code": "invalid"}, status=400)
    if isinstance(exc, IntegrityError):
        # A concurrent write won the race for a unique or check constraint the service had checked.
        return Response(
            {
                "non_field_errors": ["The request conflicts with the current state; retry."],
                "code": "conflict",
            },
            status=status.HTTP_409_CONFLICT,
        )
    response = drf_exception_handler(exc, context)
    if isinstance(exc, exceptions.ValidationError) and isinstance(response.data, dict):
        # Every refusal carries a machine-readable code; input that fails validation is simply "invalid".
        response.data.setdefault("code", "invalid")
    return response
