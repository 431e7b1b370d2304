"""Runs one channel-app command against a live Omnitron and prints what came of it as JSON.

Run by tests/clients with the python of `.venv-channel-app/` (channel-app cannot live in this project's venv), with
channel-app's own environment variables (OMNITRON_URL, OMNITRON_CHANNEL_ID, OMNITRON_USERNAME, ...) set. Nothing
channel-app or omnisdk does is replaced: the integration logs in, keeps its token in Redis and makes every HTTP
call itself. Only two names that channel-app imports and no published omnisdk has are supplied (see
`provide_operational_event_endpoint`).

stdin:  {"command": "<OmnitronIntegration action>", "content_type": "<batch request content type>", "objects": ...}
        `objects` becomes what the command takes: a CancellationRequestDto, a CancelOrderDto, an omnisdk Order
        (`get_order_items`) or the query dict as given.
stdout: {"result": [...], "batch_request": {...}, "errors": [...]}: the command's result and the integration's
        batch request as plain JSON (omnisdk models as their attributes), and every error channel-app logged.
"""

import dataclasses
import json
import logging
import sys


class ErrorCollector(logging.Handler):
    """channel-app logs a failed request and returns an empty result instead of raising: keep what it logged."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(f"{record.name}: {record.getMessage()}")


def plain(value):
    from omnisdk.omnitron.models import BaseModel

    if isinstance(value, BaseModel):
        return {key: plain(item) for key, item in vars(value).items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def provide_operational_event_endpoint() -> None:
    """channel-app 0.0.159 and later import `ChannelOperationalEventEndpoint` and `OperationalEvent` from omnisdk,
    which no published omnisdk has (0.0.103 is the latest): as published, `channel_app.omnitron.integration` cannot
    be imported at all. Define the two the way omnisdk defines every channel endpoint, only while omnisdk lacks
    them. channel-app calls them only to report a failed command, which these tests do not expect to see."""
    from omnisdk.omnitron import endpoints, models

    if not hasattr(models, "OperationalEvent"):

        class OperationalEvent(models.BaseModel):
            pass

        models.OperationalEvent = OperationalEvent
    if not hasattr(endpoints, "ChannelOperationalEventEndpoint"):

        class ChannelOperationalEventEndpoint(endpoints.OmnitronApiEndpoint):
            def __init__(self, *args, **kwargs):
                super().__init__(
                    *args, endpoint="channel/{channel_id}/operational_events", model=models.OperationalEvent, **kwargs
                )

        endpoints.ChannelOperationalEventEndpoint = ChannelOperationalEventEndpoint


def command_input(command: str, objects):
    from channel_app.core.data import CancellationRequestDto, CancelOrderDto
    from omnisdk.omnitron.models import Order

    if command == "create_cancellation_requests":
        return CancellationRequestDto(**objects)
    if command == "create_order_cancel":
        return CancelOrderDto(**objects)
    if command == "get_order_items":
        return Order(**objects)
    return objects


def main() -> int:
    request = json.load(sys.stdin)
    errors = ErrorCollector()
    logging.getLogger().addHandler(errors)
    # Whatever channel-app prints goes to stderr: stdout carries the JSON answer only.
    stdout, sys.stdout = sys.stdout, sys.stderr

    provide_operational_event_endpoint()
    from channel_app.core.settings import OmnitronIntegration

    with OmnitronIntegration(content_type=request["content_type"]) as integration:
        result = integration.do_action(
            request["command"], objects=command_input(request["command"], request["objects"])
        )
        batch_request = getattr(integration, "batch_request", None)

    json.dump(
        {"result": plain(result), "batch_request": plain(batch_request), "errors": errors.messages}, stdout, indent=1
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
