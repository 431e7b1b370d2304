from django.db import models
from django.db.models import Q

from common.models import BaseModel, money_field


class RefundKind(models.TextChoices):
    ITEMS = "items", "Items"  # the value of the cancelled or returned items
    CARGO = "cargo", "Cargo"  # the order's shipping fee


class RefundMethod(models.TextChoices):
    ORIGINAL_PAYMENT = "original_payment", "Original payment"  # back to the card transaction at the gateway
    FUNDS_TRANSFER = "funds_transfer", "Funds transfer"  # a bank transfer to the customer's IBAN
    LOYALTY_MONEY = "loyalty_money", "Loyalty money"  # a credit on the customer's loyalty balance
    FINANCING = "financing", "Financing"  # the consumer-financing provider cancels or returns the items


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # written, waiting for a worker
    PROCESSING = "processing", "Processing"  # a worker holds the lease and is calling the rail
    SUCCEEDED = "succeeded", "Succeeded"  # final: the money moved
    FAILED = "failed", "Failed"  # final until retried: the rail refused or attempts ran out


class Refund(BaseModel):
    """One money movement of an order, made by a cancellation plan. The row, not the queue message, is the truth (an
    outbox). Everything a rail needs is on the row (`order`, `instructions`), fixed when the plan was made, so the
    refunds app never reads the plan that owns it: `plan` only names the owner for the owner's own queries."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="refunds")
    # The order's channel, copied at creation, for lists and filters on this table alone.
    channel = models.ForeignKey("channels.Channel", on_delete=models.PROTECT, related_name="+", db_index=False)
    plan = models.ForeignKey("cancellations.CancellationPlan", on_delete=models.PROTECT, related_name="refunds")
    kind = models.CharField(max_length=16, choices=RefundKind.choices)
    method = models.CharField(max_length=32, choices=RefundMethod.choices)
    amount = money_field()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    gateway_reference = models.CharField(max_length=128, blank=True)
    # Only for bank transfers; never serialized to a client.
    iban = models.CharField(max_length=34, blank=True)
    holder_name = models.CharField(max_length=255, blank=True)
    # While processing: the worker's lease; a refund processing with no lease waits for an outside settlement
    # (a bank transfer being paid out).
    leased_until = models.DateTimeField(null=True, blank=True)
    # Who holds the lease: a new token per lease. Only the holder of the current lease may record an outcome, so a
    # worker whose lease ran out (and was taken over) can never settle the refund a second time.
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    # While pending after a retryable failure: not before this moment (exponential backoff).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    # What the rail does beyond moving `amount`, decided when the plan was made (e.g. for financing: cancel or return,
    # and which items). An attempt made later, or a retry after other plans, does exactly what was decided.
    instructions = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "kind"], name="one_refund_per_plan_and_kind"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=Q(kind__in=RefundKind.values), name="refund_kind_known"),
            models.CheckConstraint(condition=Q(method__in=RefundMethod.values), name="refund_method_known"),
            models.CheckConstraint(condition=Q(status__in=RefundStatus.values), name="refund_status_known"),
            models.CheckConstraint(
                condition=~Q(method="funds_transfer") | (~Q(iban="") & ~Q(holder_name="")),
                name="refund_transfer_has_account",
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "-id"], name="refund_channel_id_idx"),
            models.Index(fields=["status", "leased_until"], name="refund_status_lease_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="refund_status_next_attempt_idx"),
            models.Index(fields=["method"], name="refund_method_idx"),
        ]

    def __str__(self):
        return f"Refund {self.pk} {self.kind} {self.amount} {self.currency} ({self.status})"


class BankTransferStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting to be exported for the bank
    EXPORTED = "exported", "Exported"  # in a file handed to the bank
    PAID = "paid", "Paid"  # the bank confirmed the payout


class BankTransfer(BaseModel):
    """A payout to a customer's bank account that ops export for the bank and then mark paid."""

    refund = models.OneToOneField(Refund, on_delete=models.PROTECT, related_name="bank_transfer")
    iban = models.CharField(max_length=34)
    holder_name = models.CharField(max_length=255)
    amount = money_field()
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=BankTransferStatus.choices, default=BankTransferStatus.PENDING)
    exported_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="bank_transfer_amount_positive")]
        indexes = [models.Index(fields=["status"], name="bank_transfer_status_idx")]

    def __str__(self):
        return self.reference


class LoyaltyTransaction(BaseModel):
    """One movement on a customer's loyalty ledger; the balance is the sum of the movements."""

    customer = models.ForeignKey("orders.Customer", on_delete=models.PROTECT, related_name="loyalty_transactions")
    amount = money_field()
    currency = models.CharField(max_length=3)
    refund = models.OneToOneField(
        Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="loyalty_transaction"
    )
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="loyalty_amount_not_zero")]

    def __str__(self):
        return f"{self.customer_id} {self.amount} {self.currency}"
