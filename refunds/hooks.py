"""The one way the refunds app tells the owner of its refunds (the cancellation plans) what became of them.

The owner registers one `RefundOwner` at start-up (cancellations does, in its AppConfig.ready()). When a refund's
outcome is final, `refunds.services` calls, inside one transaction:

1. `locked = owner.lock(refund)` with the refund as read before any lock: the owner takes its own locks first. The
   cancellations app locks the refund's order row: every writer of an order, its items, its plans or its refunds
   locks that row first, so it serialises them all and nothing can deadlock;
2. then refunds writes the outcome to the refund row (a conditional UPDATE: only a refund still processing under a
   lease is settled);
3. `owner.settled(refund, locked)`: the owner's bookkeeping (the plan completes or fails), under the lock of step 1.

So an outcome and its consequences commit together or not at all, and nothing locks a refund before its order.
"""

from typing import Any, Protocol

from refunds.models import Refund


class RefundOwner(Protocol):
    def lock(self, refund: Refund) -> Any:
        """Lock what `settled` will change, before the refund row is written; return what `settled` needs of it."""

    def settled(self, refund: Refund, locked: Any) -> None:
        """The refund is final (`succeeded` or `failed`): update what depends on it."""


class _Unowned:
    def lock(self, refund: Refund) -> None:
        return None

    def settled(self, refund: Refund, locked) -> None:
        pass


_owner: RefundOwner = _Unowned()


def register_refund_owner(owner: RefundOwner) -> None:
    global _owner
    _owner = owner


def refund_owner() -> RefundOwner:
    return _owner
