"""Error reporting to Sentry, switched on by settings only when SENTRY_DSN is set (nothing is sent otherwise)."""

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from common.request_id import get_request_id


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=traces_sample_rate,
        # No user data, and no request bodies: they hold customers' names, addresses and IBANs.
        send_default_pii=False,
        max_request_body_size="never",
        # Payment providers get our X-Request-ID, not Sentry's tracing headers.
        trace_propagation_targets=[],
        before_send=event_with_request_id,
    )


def event_with_request_id(event: dict, hint: dict) -> dict:
    """Tags the event with the request id, so the report leads to the request's log lines."""
    request_id = get_request_id()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event
