"""The broker messages a request sends, sent once its response has gone out.

A committed cancel nudges a worker with a message (its refunds, an outbox row). The rows are the truth and the
sweepers send whatever a lost message leaves behind, so the client need not wait for the broker: within a request,
`after_response` keeps the message until Django signals the request finished, which the WSGI server does once the
response's last byte is written (gunicorn closes the response then). Outside a request (a worker, the shell), or
where tasks run in-process (no broker: the response must show what they did), the message is sent at once.
"""

import logging
from collections.abc import Callable
from contextvars import ContextVar

from celery import current_app
from django.core.signals import request_finished, request_started

from common.request_id import get_request_id, reset_request_id, set_request_id

logger = logging.getLogger(__name__)

# The current request's messages to send, each with the request's id (the message carries it), or None outside a
# request.
_pending: ContextVar[list[tuple[Callable[[], None], str | None]] | None] = ContextVar("after_response", default=None)


def after_response(send: Callable[[], None]) -> None:
    """Call `send` (a nudge to the broker, which must not fail its caller) after the current request's response has
    been sent; at once outside a request or when tasks run in-process."""
    pending = _pending.get()
    if pending is None or current_app.conf.task_always_eager:
        send()
    else:
        pending.append((send, get_request_id()))


def _flush() -> None:
    pending = _pending.get()
    _pending.set(None)
    for send, request_id in pending or ():
        token = set_request_id(request_id)
        try:
            send()
        except Exception:  # a nudge never fails the request; the sweepers send what it did not
            logger.exception("a message after the response could not be sent; the sweeper will send it")
        finally:
            reset_request_id(token)


def _request_started(**kwargs) -> None:
    _flush()  # what a request whose end was never signalled left (none in a WSGI server)
    _pending.set([])


def _request_finished(**kwargs) -> None:
    _flush()


def connect() -> None:
    """Connected once, at start-up (CommonConfig.ready)."""
    request_started.connect(_request_started, dispatch_uid="common.after_response.started")
    request_finished.connect(_request_finished, dispatch_uid="common.after_response.finished")
