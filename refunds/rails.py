"""Refund rails: one class per refund method, each moving one Refund's money. `rail_for(refund)` picks it.

A rail is called outside any database lock and may be called again for the same refund after a crash, so it
passes `refund_idempotency_key(refund)` to anything it talks to and must be safe to repeat.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from refunds.models import BankTransfer, LoyaltyTransaction, Refund, RefundMethod


@dataclass(frozen=True)
class RailOutcome:
    succeeded: bool
    reference: str = ""
    error: str = ""
    #: A failure worth another attempt (timeout, connection error, 5xx).
    retryable: bool = False
    #: Neither success nor failure yet: the money moves outside (a bank payout) and is settled later.
    awaiting_settlement: bool = False


def refund_idempotency_key(refund: Refund) -> str:
    """The same on every attempt: derived from the refund row, never regenerated."""
    return f"refund-{refund.uuid}"


class Rail:
    def refund(self, refund: Refund) -> RailOutcome:  # pragma: no cover - interface
        raise NotImplementedError


class OriginalPaymentRail(Rail):
    """Back to the card transaction the customer paid with, through the configured gateway."""

    def refund(self, refund):
        gateway = import_string(settings.REFUND_CARD_GATEWAY)()
        return gateway.refund(
            amount=refund.amount,
            currency=refund.currency.upper(),  # stored as Omnitron spells it ("try"); gateways take ISO capitals
            payment_reference=refund.order.payment_reference or "",
            idempotency_key=refund_idempotency_key(refund),
        )


class LoyaltyMoneyRail(Rail):
    """A credit on the customer's loyalty ledger; settles at once. One ledger row per refund, however often run."""

    def refund(self, refund):
        with transaction.atomic():
            movement, _ = LoyaltyTransaction.objects.get_or_create(
                refund=refund,
                defaults={
                    "customer_id": refund.order.customer_id,
                    "amount": refund.amount,
                    "currency": refund.currency,
                    "description": f"Refund of order {refund.order.number}",
                },
            )
        return RailOutcome(succeeded=True, reference=f"loyalty-{movement.pk}")


class FundsTransferRail(Rail):
    """A payout to the customer's IBAN. Ops export pending payouts as a file for the bank and mark them paid,
    which settles the refund (refunds.services.bank_transfers_mark_paid)."""

    def refund(self, refund):
        with transaction.atomic():
            transfer, _ = BankTransfer.objects.get_or_create(
                refund=refund,
                defaults={
                    "iban": refund.iban,
                    "holder_name": refund.holder_name,
                    "amount": refund.amount,
                    "currency": refund.currency,
                    "reference": f"RF{refund.pk:010d}",
                },
            )
        return RailOutcome(succeeded=False, reference=transfer.reference, awaiting_settlement=True)


RAILS: dict[str, type[Rail]] = {
    RefundMethod.ORIGINAL_PAYMENT: OriginalPaymentRail,
    RefundMethod.LOYALTY_MONEY: LoyaltyMoneyRail,
    RefundMethod.FUNDS_TRANSFER: FundsTransferRail,
}


def rail_for(refund: Refund) -> Rail:
    return RAILS[refund.method]()


# The financing rail builds on the interface above, so it is registered after it.
from refunds.financing import FinancingRail  # noqa: E402

RAILS[RefundMethod.FINANCING] = FinancingRail
