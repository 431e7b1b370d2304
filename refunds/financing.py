"""The consumer-financing rail: orders paid with deferred payment / pay in three are refunded by telling the provider
which items were cancelled (not shipped) or returned (shipped); the provider then lowers what the customer owes.

Wiring: `RAILS[RefundMethod.FINANCING] = FinancingRail`. Settings (read with defaults, so nothing breaks before they
exist): FINANCING_BASE_URL, FINANCING_API_KEY, FINANCING_TIMEOUT (seconds).
"""

from urllib.parse import quote

import httpx
from django.conf import settings

from common.request_id import request_id_headers
from refunds.models import Refund
from refunds.rails import Rail, RailOutcome, refund_idempotency_key

# A 408 or a 429 says "not now" rather than "no": worth another attempt like a 5xx. Every other 4xx is final.
RETRYABLE_CLIENT_STATUSES = frozenset({408, 429})


class FinancingError(Exception):
    """The provider refused, or could not be reached. `code` is the provider's own code when it sent one."""

    def __init__(self, status: int | None, code: str, message: str, retryable: bool = False):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retryable = retryable


class FinancingClient:
    """The provider's order endpoints. Every call is a PUT carrying an `Idempotency-Key`, so it is safe to repeat."""

    def __init__(
        self, base_url: str, api_key: str, timeout: float = 10.0, transport: httpx.BaseTransport | None = None
    ):
        headers = {"Content-Type": "application/json"}
        if api_key:
            # Without a key no Authorization header at all: "Bearer " with nothing after it is not a valid header.
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(connect=min(timeout, 5.0), read=timeout, write=timeout, pool=timeout),
            transport=transport,
        )

    def __enter__(self) -> "FinancingClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def cancel(self, application_id: str, items: list[dict] | None, *, idempotency_key: str) -> dict:
        """Mark order items as cancelled (never to be delivered).

        `items=None` cancels every item not yet marked (the whole order): the body is then `{}`. The provider asks
        for "an empty request"; `{}` is the empty request in JSON, and unlike a body of zero bytes it is still valid
        JSON under our `Content-Type: application/json`, which a strict JSON endpoint would otherwise refuse as
        malformed (400 INVALID_REQUEST). Otherwise the body is `{"items": [{"code": sku, "ean": ean}, ...]}`.
        """
        return self._put(application_id, "cancel", items, idempotency_key)

    def mark_returned(self, application_id: str, items: list[dict] | None, *, idempotency_key: str) -> dict:
        """Mark order items as returned (they were sent or delivered, and came back).

        Assumption: the reference names this operation (`PUT .../order/return`) without showing it; we assume it takes
        the same body as `cancel` (`{}` for every item not yet marked, else `{"items": [...]}`) and answers the same
        errors.
        """
        return self._put(application_id, "return", items, idempotency_key)

    def _put(self, application_id: str, action: str, items: list[dict] | None, idempotency_key: str) -> dict:
        if items is not None and not items:
            # `{"items": []}` would read as "nothing" to us and might read as "everything" to the provider.
            raise ValueError("Name at least one item, or pass items=None for the whole order.")
        path = f"/financing/v1/applications/{quote(application_id, safe='')}/order/{action}"
        body = {} if items is None else {"items": items}
        try:
            # The request id of the request or task this call is made for: the provider's logs can be matched to ours.
            response = self._http.put(
                path, json=body, headers={"Idempotency-Key": idempotency_key, **request_id_headers()}
            )
        except (httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            # The request could not even be built or sent as HTTP (a bad header, URL or scheme in the settings):
            # the same request would fail the same way every time, so it is final, not a connection problem.
            raise FinancingError(
                None, "REQUEST_INVALID", f"The request could not be sent: {exc}", retryable=False
            ) from exc
        except httpx.TimeoutException as exc:
            # The provider may have acted on it; the idempotency key makes the next attempt harmless.
            raise FinancingError(None, "TIMEOUT", f"No answer in time: {exc!r}", retryable=True) from exc
        except httpx.TransportError as exc:
            raise FinancingError(
                None, "CONNECTION_ERROR", f"Could not reach the provider: {exc!r}", retryable=True
            ) from exc
        if response.is_success:
            return _json_object(response)
        code, message = _provider_error(response)
        retryable = response.is_server_error or response.status_code in RETRYABLE_CLIENT_STATUSES
        raise FinancingError(response.status_code, code, message, retryable=retryable)


def _json_object(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _provider_error(response: httpx.Response) -> tuple[str, str]:
    """The provider's code and message, from `{"code", "message"}` or `{"errors": [{"code", "message"}]}`; for any
    other body, `HTTP_<status>` and the start of the body text."""
    body = _json_object(response)
    errors = body.get("errors")
    if not body.get("code") and isinstance(errors, list) and errors and isinstance(errors[0], dict):
        body = errors[0]
    code = str(body.get("code") or f"HTTP_{response.status_code}")
    message = str(body.get("message") or response.text[:200].strip() or response.reason_phrase)
    return code, message


def financing_client_from_settings() -> FinancingClient:
    base_url = getattr(settings, "FINANCING_BASE_URL", "")
    if not base_url.startswith(("http://", "https://")):
        raise FinancingError(
            None, "NOT_CONFIGURED", "FINANCING_BASE_URL is not set to an http(s) URL.", retryable=False
        )
    try:
        return FinancingClient(
            base_url=base_url,
            api_key=getattr(settings, "FINANCING_API_KEY", ""),
            timeout=float(getattr(settings, "FINANCING_TIMEOUT", 10.0)),
        )
    except (UnicodeEncodeError, ValueError, httpx.InvalidURL) as exc:
        raise FinancingError(
            None, "NOT_CONFIGURED", f"The financing settings cannot make a request: {exc}", retryable=False
        ) from exc


class FinancingRail(Rail):
    """Cancels or marks returned, at the provider, the items the refund's `instructions` name, as the plan decided
    them when it was made (`cancellations.refund_instructions`):

    - `{"action": "cancel" | "return", "items": [{"code", "ean"}...] | null}`: one call; `null` is the empty request,
      which marks every item not yet marked (the plan took the rest of the order, shipping included);
    - `{"rides_on_items": true}` (the shipping fee of a plan whose items refund releases the whole order): succeeds
      without a call, since the whole-order call already covers it;
    - `{"unsupported": "NOT_SUPPORTED: ..."}`: fails for good with that error, and an operator settles it by other
      means; reporting success there would claim money moved when nothing did.
    """

    def refund(self, refund: Refund) -> RailOutcome:
        application_id = refund.order.financing_application_id
        if not application_id:
            return RailOutcome(succeeded=False, error="NO_APPLICATION: the order has no financing application id.")
        instructions = refund.instructions or {}
        if instructions.get("unsupported"):
            return RailOutcome(succeeded=False, error=instructions["unsupported"])
        if instructions.get("rides_on_items"):
            return RailOutcome(succeeded=True, reference=application_id)
        if instructions.get("action") not in ("cancel", "return"):
            return RailOutcome(
                succeeded=False, error="NO_INSTRUCTIONS: the refund does not say what to tell the provider."
            )
        try:
            with financing_client_from_settings() as client:
                send = client.mark_returned if instructions["action"] == "return" else client.cancel
                response = send(
                    application_id, instructions.get("items"), idempotency_key=refund_idempotency_key(refund)
                )
        except FinancingError as err:
            return RailOutcome(succeeded=False, error=f"{err.code}: {err.message}", retryable=err.retryable)
        return RailOutcome(succeeded=True, reference=_reference(response, application_id))


def _reference(response: dict, application_id: str) -> str:
    """The application the provider reports back (its id, and its state when given), else the one we sent."""
    application = response.get("application")
    source = application if isinstance(application, dict) else response
    reference = str(source.get("id") or source.get("applicationId") or application_id)
    state = source.get("state")
    return f"{reference}:{state}" if state else reference
