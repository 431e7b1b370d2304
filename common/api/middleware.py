"""Under `/api/` every error is JSON, whoever produced it: the URL resolver's 404, Django's own 400/403/413, a view
that raised, or a method no route accepts. Clients (omnisdk among them) parse every error body as JSON."""

import logging

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.signals import got_request_exception
from django.http import Http404, JsonResponse

logger = logging.getLogger("omnitron.api")

API_PREFIX = "/api/"
# The longest URL (path and query string, as sent) an API request may have; gunicorn's own limit on the request line
# is lifted (gunicorn.conf.py) so that this one, with a JSON answer, is the one a client meets.
MAX_URL_LENGTH = 8192

# The status code of an error answered without a body of its own, and what its JSON says.
ERRORS = {
    400: ("bad_request", "The request is malformed."),
    401: ("not_authenticated", "Authentication credentials were not provided or are invalid."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed on this path."),
    413: ("request_too_large", "The request body is too large."),
    414: ("uri_too_long", f"The URL is longer than {MAX_URL_LENGTH} characters."),
    500: ("server_error", "The server failed to handle this request; it has been logged."),
}


def json_error(status: int, detail: str | None = None, code: str | None = None) -> JsonResponse:
    default_code, default_detail = ERRORS.get(status, ("error", "The request failed."))
    return JsonResponse({"detail": detail or default_detail, "code": code or default_code}, status=status)


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


class ApiJsonErrorsMiddleware:
    """Outermost for API paths: refuses oversized bodies up front, turns exceptions and non-JSON error pages into
    `{"detail", "code"}` bodies. Paths outside `/api/` (the admin) keep Django's pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        refusal = self._refuse_early(request)
        if refusal is not None:
            return refusal
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_json(response):
            return json_error(response.status_code)
        return response

    def _refuse_early(self, request):
        query = request.META.get("QUERY_STRING", "")
        if len(request.path) + (len(query) + 1 if query else 0) > MAX_URL_LENGTH:
            return json_error(414)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(400, "The Content-Length header is not a number.")
        if length > settings.API_MAX_BODY_BYTES:
            return json_error(413, f"The request body is larger than {settings.API_MAX_BODY_BYTES} bytes.")
        if not request.path.endswith("/") and request.method not in ("GET", "HEAD"):
            # Django would redirect (or, with DEBUG, fail) to append the slash; a write cannot follow a redirect.
            return json_error(404, "Not found. Every API path ends with a slash.")
        return None

    def process_exception(self, request, exception):
        if not request.path.startswith(API_PREFIX):
            return None
        if isinstance(exception, Http404):
            return json_error(404)
        if isinstance(exception, RequestDataTooBig):
            return json_error(413)
        if isinstance(exception, PermissionDenied):
            return json_error(403)
        if isinstance(exception, BadRequest | SuspiciousOperation):
            return json_error(400)
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        got_request_exception.send(sender=type(self), request=request)
        response = json_error(500)
        # Logged above with its traceback: django.request is not to log it a second time.
        response._has_been_logged = True
        return response
