"""The one way the refunds app tells the owner of its refunds (the cancellation plans) what became of them.

The owner registers one `RefundOwner` at start-up (cancellations does, in its AppConfig.ready()). When a refund's
outcome is final, `refunds.services` calls, inside one transaction:

1. `owner.lock(refund)` with the refund as read before any lock: the owner takes its own locks, in the order every
   writer of the service follows: the order, then its items, then the plan;
2. then refunds locks the refund row itself and records the outcome;
3. `owner.settled(refund)`: the owner's bookkeeping (the plan completes or fails), under the locks of step 1.

So an outcome and its consequences commit together or not at all, and nothing locks a refund before its order.
"""

from typing import Protocol

from refunds.models import Refund


class RefundOwner(Protocol):
    def lock(self, refund: Refund) -> None:
        """Lock what `settled` will change, before the refund row is locked."""

    def settled(self, refund: Refund) -> None:
        """The refund is final (`succeeded` or `failed`): update what depends on it."""


class _Unowned:
    def lock(self, refund: Refund) -> None:
        pass

    def settled(self, refund: Refund) -> None:
        pass


_owner: RefundOwner = _Unowned()


def register_refund_owner(owner: RefundOwner) -> None:
    global _owner
    _owner = owner


def refund_owner() -> RefundOwner:
    return _owner
