"""The one way the refunds app tells the owner of its refunds (the cancellation plans) what became of them.

The owner registers one `RefundOwner` at start-up (cancellations does, in its AppConfig.ready()). When the outcomes
of one order's refunds (a batch: a plan's refunds are attempted together) include a final one, `refunds.services`
calls, inside one transaction:

1. `locked = owner.lock(refund)` with a refund of that order as read before any lock: the owner takes its own locks
   first. The cancellations app locks the refund's order row: every writer of an order, its items, its plans or its
   refunds locks that row first, so it serialises them all and nothing can deadlock;
2. then refunds writes each outcome to its refund row (a conditional UPDATE: only a refund still processing under
   the lease it was attempted under is settled);
3. `owner.settled(refunds, locked)` with the refunds of step 2 that are now final, in id order: the owner's
   bookkeeping (a plan completes or fails), under the lock of step 1.

So an outcome and its consequences commit together or not at all, and nothing locks a refund before its order.
"""

from typing import Any, Protocol

from refunds.models import Refund


class RefundOwner(Protocol):
    def lock(self, refund: Refund) -> Any:
        """Lock what `settled` will change, before the refund rows are written; return what `settled` needs of it."""

    def settled(self, refunds: list[Refund], locked: Any) -> None:
        """The refunds, all of one order, are final (`succeeded` or `failed`): update what depends on them."""


class _Unowned:
    def lock(self, refund: Refund) -> None:
        return None

    def settled(self, refunds: list[Refund], locked) -> None:
        pass


_owner: RefundOwner = _Unowned()


def register_refund_owner(owner: RefundOwner) -> None:
    global _owner
    _owner = owner


def refund_owner() -> RefundOwner:
    return _owner
