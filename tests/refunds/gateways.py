"""Card gateways for tests: they record every call, so a test can count how often money was asked to move."""

import os
import threading
import time
from decimal import Decimal

from refunds.gateways import GatewayResult


class ScriptedGateway:
    """In-process: answers with `ScriptedGateway.script` in turn (then succeeds), after `delay` seconds."""

    calls: list[str] = []
    script: list[GatewayResult] = []
    delay: float = 0.0
    _lock = threading.Lock()

    @classmethod
    def reset(cls, script=(), delay: float = 0.0) -> None:
        cls.calls = []
        cls.script = list(script)
        cls.delay = delay

    def refund(self, *, amount: Decimal, currency: str, payment_reference: str, idempotency_key: str) -> GatewayResult:
        with self._lock:
            self.calls.append(idempotency_key)
            result = self.script.pop(0) if self.script else GatewayResult(succeeded=True, reference="scripted-ok")
        time.sleep(self.delay)
        return result


class RecordingGateway:
    """Across processes (a worker subprocess): appends each call's idempotency key to the file named by
    RECORDING_GATEWAY_LOG, and succeeds."""

    def refund(self, *, amount: Decimal, currency: str, payment_reference: str, idempotency_key: str) -> GatewayResult:
        with open(os.environ["RECORDING_GATEWAY_LOG"], "a") as log:
            log.write(f"{idempotency_key}\n")
        return GatewayResult(succeeded=True, reference=f"recorded-{idempotency_key[-8:]}")
