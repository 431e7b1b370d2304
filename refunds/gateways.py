"""Card gateways for the `original_payment` rail. The one in use is named by settings.REFUND_CARD_GATEWAY."""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings


@dataclass(frozen=True)
class GatewayResult:
    succeeded: bool
    reference: str = ""
    error: str = ""
    #: A failure worth another attempt (timeout, connection error, 5xx) rather than a refusal.
    retryable: bool = False


class SandboxGateway:
    """An in-process gateway for development, demos and tests. It succeeds unless told otherwise: with
    SANDBOX_GATEWAY_MODE=fail, or for a purchase whose payment_reference starts with "sandbox-fail"."""

    FAIL_PREFIX = "sandbox-fail"

    def refund(self, *, amount: Decimal, currency: str, payment_reference: str, idempotency_key: str) -> GatewayResult:
        if settings.SANDBOX_GATEWAY_MODE == "fail" or (payment_reference or "").startswith(self.FAIL_PREFIX):
            return GatewayResult(succeeded=False, error="sandbox_declined: the sandbox was told to refuse")
        reference = f"sandbox-{uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex[:16]}"
        return GatewayResult(succeeded=True, reference=reference)
