"""The request id: one id per HTTP request, on every log line written while serving it, in the response's
`X-Request-ID` header, on the Celery tasks it sends (restored in the worker) and on the calls made to payment
providers, so one search finds everything a request caused.

A caller's `X-Request-ID` is kept when it is short and made of safe characters (a proxy's or a client's id); anything
else is replaced by a new id, never refused.
"""

import re
import uuid
from contextvars import ContextVar

from django.core.signals import request_finished

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
MAX_LENGTH = 128
# Letters, digits and the punctuation of UUIDs, ULIDs, base64 and trace ids: nothing that could split a log line.
_SAFE = re.compile(r"[A-Za-z0-9._:+=/@-]+")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: object) -> str | None:
    """`value` if it is acceptable as a request id, else None."""
    if isinstance(value, str) and 0 < len(value) <= MAX_LENGTH and _SAFE.fullmatch(value):
        return value
    return None


def get_request_id() -> str | None:
    return _current.get()


def set_request_id(value: str | None):
    """Makes `value` the current request id; returns the token that `reset_request_id` takes."""
    return _current.set(value)


def reset_request_id(token) -> None:
    _current.reset(token)


def request_id_headers() -> dict[str, str]:
    """`{"X-Request-ID": id}` for an outbound call, or `{}` outside any request or task."""
    request_id = get_request_id()
    return {HEADER: request_id} if request_id else {}


class RequestIdMiddleware:
    """Outermost: picks the request's id before anything can log, and puts it on the response.

    The id stays current until the response is closed (`request_finished`), not only while the middleware runs:
    Django logs a 4xx or 5xx (`django.request`) after the middleware chain has returned, and that line must carry it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = clean_request_id(request.META.get(META_KEY)) or new_request_id()
        set_request_id(request.request_id)
        response = self.get_response(request)
        response[HEADER] = request.request_id
        return response


def _forget_request_id(**kwargs) -> None:
    set_request_id(None)


request_finished.connect(_forget_request_id, dispatch_uid="common.request_id.forget")
