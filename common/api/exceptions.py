from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import ApplicationError


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
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(response.data, dict):
        return response
    if isinstance(exc, exceptions.ValidationError):
        # Every refusal carries a machine-readable code; input that fails validation is simply "invalid".
        response.data.setdefault("code", "invalid")
    elif isinstance(exc, exceptions.APIException) and "detail" in response.data:
        # 401, 403, 404, 405, 406, 415, 429 ...: `{"detail", "code"}` like every other error under /api/.
        codes = exc.get_codes()
        response.data.setdefault("code", codes if isinstance(codes, str) else exc.default_code)
    return response
