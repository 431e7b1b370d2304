"""Card gateways for the `original_payment` rail. The one in use is named by settings.REFUND_CARD_GATEWAY: a class
whose instances have `refund(*, amount, currency, payment_reference, idempotency_key) -> GatewayResult`."""

import uuid
from decimal import Decimal

from django.conf import settings

from refunds.rails import RailOutcome

# A gateway answers with the rails' own outcome.
GatewayResult = RailOutcome


class SandboxGateway:
    """An in-process gateway for development, demos and tests. It succeeds unless told otherwise:

    - SANDBOX_GATEWAY_MODE=fail, or a purchase whose payment_reference starts with "sandbox-fail": a refusal;
    - SANDBOX_GATEWAY_MODE=unavailable, or a payment_reference starting with "sandbox-unavailable": a retryable
      outage (as a timeout or a 503 would be).
    """

    def refund(self, *, amount: Decimal, currency: str, payment_reference: str, idempotency_key: str) -> GatewayResult:
        mode = settings.SANDBOX_GATEWAY_MODE
        reference = payment_reference or ""
        if mode == "fail" or reference.startswith("sandbox-fail"):
            return GatewayResult(succeeded=False, error="sandbox_declined: the sandbox was told to refuse")
        if mode == "unavailable" or reference.startswith("sandbox-unavailable"):
            return GatewayResult(succeeded=False, error="sandbox_unavailable: try again later", retryable=True)
        return GatewayResult(
            succeeded=True, reference=f"sandbox-{uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex[:16]}"
        )
