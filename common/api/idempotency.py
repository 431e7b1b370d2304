"""`Idempotency-Key` for unsafe endpoints: the first response to a key is stored and replayed to repeats.

- the same key and the same request within IDEMPOTENCY_KEY_TTL_HOURS: the stored status and body, nothing redone;
- the same key with a different request: 422;
- the same key while the first request is still running: 409.
Keys are scoped to the user. Responses of 5xx are not stored, so the client may try again with the same key.
"""

import functools
import hashlib
import json
import re
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from common.models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEY_RE = re.compile(r"^[\x20-\x7e]{1,255}$")
# The key as the schema declares it: what KEY_RE takes, without a space at either end (HTTP strips those).
KEY_SCHEMA = {"type": "string", "pattern": r"^[\x21-\x7e]([\x20-\x7e]{0,253}[\x21-\x7e])?$"}


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _claim(*, user, key: str, fingerprint: str) -> tuple[IdempotencyRecord | None, Response | None]:
    """Either a fresh in-flight record for us to fill, or the response to send instead of running the view."""
    now = timezone.now()
    for _ in range(2):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(user=user, key=key, fingerprint=fingerprint), None
        except IntegrityError:
            pass
        record = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if record is None:
            continue  # deleted between our insert and our read: try once more
        expired = record.created_date < now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
        abandoned = record.state == IdempotencyRecord.State.IN_FLIGHT and record.created_date < now - timedelta(
            seconds=settings.IDEMPOTENCY_IN_FLIGHT_TIMEOUT
        )
        if expired or abandoned:
            IdempotencyRecord.objects.filter(pk=record.pk, created_date=record.created_date).delete()
            continue
        if record.fingerprint != fingerprint:
            return None, Response(
                {
                    "detail": "This Idempotency-Key was used with a different request.",
                    "code": "idempotency_key_reused",
                },
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        if record.state == IdempotencyRecord.State.IN_FLIGHT:
            return None, Response(
                {
                    "detail": "A request with this Idempotency-Key is still being processed.",
                    "code": "request_in_flight",
                },
                status=status.HTTP_409_CONFLICT,
            )
        replay = Response(json.loads(record.response_body), status=record.response_status)
        replay["Idempotent-Replayed"] = "true"
        return None, replay
    return None, Response(
        {"detail": "This Idempotency-Key is contended; retry.", "code": "request_in_flight"},
        status=status.HTTP_409_CONFLICT,
    )


def idempotent(view_method):
    """Decorate a DRF view method (a POST handler or action) to honour the Idempotency-Key header."""

    @functools.wraps(view_method)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(view, request, *args, **kwargs)
        if not KEY_RE.match(key):
            return Response(
                {HEADER: ["1 to 255 printable ASCII characters."], "code": "idempotency_key_invalid"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        record, early = _claim(user=request.user, key=key, fingerprint=_fingerprint(request))
        if early is not None:
            return early
        try:
            response = view_method(view, request, *args, **kwargs)
        except Exception as exc:
            try:
                response = view.handle_exception(exc)
            except Exception:
                record.delete()
                raise
        if response.status_code >= 500:
            record.delete()
        else:
            record.state = IdempotencyRecord.State.DONE
            record.response_status = response.status_code
            record.response_body = json.dumps(response.data, cls=JSONEncoder)
            record.save(update_fields=["state", "response_status", "response_body"])
        return response

    return wrapper


def idempotency_purge() -> int:
    """Forget keys past their lifetime (a repeat after that is a new request anyway)."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_date__lt=cutoff).delete()
    return deleted
