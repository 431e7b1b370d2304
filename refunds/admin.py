from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.utils import timezone
from django.utils.timesince import timesince
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from common.admin import LargeTableMixin
from common.console import ConsoleMixin, Decision, Outcome, Preview, PreviewLine, bulk_action
from common.dashboard import DashboardCard, dashboard_card
from common.masking import mask_iban
from orders.admin import RECORD_FIELDS, IndexedSearchMixin, ReadOnlyAdmin, ReadOnlyInline, ServiceOwnedAdmin
from refunds import services
from refunds.models import BankTransfer, BankTransferStatus, LoyaltyTransaction, Refund, RefundMethod, RefundStatus


def refund_recipient(refund: Refund) -> str:
    """To whom a refund goes, as ops recognise it; an IBAN only masked."""
    order = refund.order
    if refund.method == RefundMethod.FUNDS_TRANSFER:
        return f"{refund.holder_name}, IBAN {mask_iban(refund.iban)}"
    if refund.method == RefundMethod.LOYALTY_MONEY:
        return f"loyalty balance of {order.customer.email}"
    if refund.method == RefundMethod.FINANCING:
        return f"financing application {order.financing_application_id or '-'}"
    return f"the card payment {order.payment_reference}" if order.payment_reference else "the original payment"


def refund_preview_line(refund: Refund, *, note: str = "") -> PreviewLine:
    return PreviewLine(
        what=f"{refund.get_kind_display()} refund of order {refund.order.number}",
        amount=refund.amount,
        currency=refund.currency,
        rail=refund.get_method_display(),
        recipient=refund_recipient(refund),
        note=note,
    )


def refunds_outcome(refunds: list[Refund], *, is_retry: bool = False) -> tuple[str, int]:
    """What became of refunds just made or retried, read back after the decision committed: with in-process
    workers they have already run; with a broker they wait for one."""
    failed = [refund for refund in refunds if refund.status == RefundStatus.FAILED]
    if failed:
        errors = "; ".join(f"refund #{refund.pk}: {refund.last_error or 'no error recorded'}" for refund in failed)
        return f"{'failed again' if is_retry else 'failed'}: {errors}", messages.ERROR
    total = sum((refund.amount for refund in refunds), Decimal("0.00"))
    currency = refunds[0].currency.upper() if refunds else ""
    if refunds and all(refund.status == RefundStatus.SUCCEEDED for refund in refunds):
        return f"refunded {total:.2f} {currency} (succeeded)", messages.SUCCESS
    transfers = [r for r in refunds if r.status == RefundStatus.PROCESSING and r.method == RefundMethod.FUNDS_TRANSFER]
    if transfers and len(transfers) == len([r for r in refunds if r.status != RefundStatus.SUCCEEDED]):
        return f"{total:.2f} {currency} waits for the bank transfer export", messages.SUCCESS
    waiting = sum(1 for refund in refunds if refund.status != RefundStatus.SUCCEEDED)
    return f"queued: {waiting} refund(s) of {total:.2f} {currency} wait for a worker", messages.SUCCESS


def past_lease(refunds=None):
    """Refunds a worker took and has not finished, past their lease: the worker is presumed gone (the sweeper picks
    them up again). Served by the (status, leased_until) index."""
    refunds = Refund.objects.all() if refunds is None else refunds
    return refunds.filter(status=RefundStatus.PROCESSING, leased_until__lt=timezone.now())


class LeaseFilter(admin.SimpleListFilter):
    """Refunds processing past their lease (`past_lease`)."""

    title = "lease"
    parameter_name = "lease"

    def lookups(self, request, model_admin):
        return [("expired", "Processing past its lease")]

    def queryset(self, request, queryset):
        if self.value() == "expired":
            return past_lease(queryset)
        return queryset


@admin.register(Refund)
class RefundAdmin(ConsoleMixin, IndexedSearchMixin, LargeTableMixin, ReadOnlyAdmin):
    list_display = (
        "order",
        "amount",
        "currency",
        "status",
        "last_error_short",
        "kind",
        "method",
        "channel",
        "plan",
        "attempts",
        "next_attempt_at",
        "settled_at",
        "created_date",
        "id",
    )
    list_select_related = ("order", "channel", "plan")
    list_only = (
        *("amount", "currency", "status", "last_error", "kind", "method", "channel", "attempts", "next_attempt_at"),
        *("settled_at", "created_date", "order__number", "plan__plan_type", "plan__status"),
    )
    # Only the (plan, kind) unique index holds the kind: a kind few refunds have reads all of that index.
    list_filter = ("channel", "status", LeaseFilter, "method", "kind", "created_date")
    # The gateway reference has no index to serve a search.
    search_fields = ("=order__number",)
    search_help_text = "An order number."
    ordering = ("-id",)
    sortable_by = ("created_date", "id")

    # The full IBAN never shows in the admin: the masked one stands in for it.
    exclude = ("iban",)
    readonly_fields = ("masked_iban",)

    @admin.display(description="IBAN")
    def masked_iban(self, refund):
        return mask_iban(refund.iban) or "-"

    @admin.display(description="Last error")
    def last_error_short(self, refund):
        return (refund.last_error[:80] + "...") if len(refund.last_error) > 80 else refund.last_error or "-"


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ("kind", "method", "amount", "currency", "status", "attempts", "last_error", "settled_at")


class BankTransferForm(forms.ModelForm):
    """The account of a transfer not yet exported can be corrected; the IBAN on record is shown masked and is
    replaced only by typing a new one (the page never carries the full IBAN)."""

    new_iban = forms.CharField(
        required=False, max_length=64, label="New IBAN", help_text="Leave empty to keep the IBAN on record."
    )

    class Meta:
        model = BankTransfer
        fields = ("holder_name",)

    def clean_new_iban(self):
        value = self.cleaned_data["new_iban"].strip()
        if not value:
            return ""
        try:
            return IBAN(value).compact
        except (SchwiftyException, ValueError):
            raise forms.ValidationError("Not a valid IBAN (country format or checksum).") from None

    def save(self, commit=True):
        if self.cleaned_data.get("new_iban"):
            self.instance.iban = self.cleaned_data["new_iban"]
        return super().save(commit=commit)


def transfer_preview(transfer: BankTransfer) -> Preview:
    line = PreviewLine(
        what=f"Transfer {transfer.reference} for order {transfer.refund.order.number}",
        amount=transfer.amount,
        currency=transfer.currency,
        rail="Bank transfer",
        recipient=f"{transfer.holder_name}, IBAN {mask_iban(transfer.iban)}",
        note=f"refund #{transfer.refund_id}",
    )
    return Preview(lines=[line])


def transfers_export(transfers: list[BankTransfer], user) -> Outcome:
    content = services.bank_transfers_export(transfer_ids=[t.pk for t in transfers], actor=user)
    filename = f"bank-transfers-{timezone.now():%Y%m%d-%H%M%S}.csv"
    response = HttpResponse(content, content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Outcome(
        f"{len(transfers)} transfer(s) exported to {filename}.", history=f"Exported in {filename}.", response=response
    )


def transfers_mark_paid(transfers: list[BankTransfer], user) -> Outcome:
    paid = services.bank_transfers_mark_paid(transfer_ids=[t.pk for t in transfers])
    return Outcome(
        f"{paid} transfer(s) paid; their refunds are settled.", history="Marked paid: the refund is settled."
    )


EXPORT = Decision(
    name="export",
    label="Export for the bank",
    past="exported",
    applies=lambda transfer: transfer.status in (BankTransferStatus.PENDING, BankTransferStatus.EXPORTED),
    preview=transfer_preview,
    perform_many=transfers_export,
)
MARK_PAID = Decision(
    name="mark-paid",
    label="Mark paid",
    past="marked paid",
    applies=lambda transfer: transfer.status == BankTransferStatus.EXPORTED,
    preview=transfer_preview,
    perform_many=transfers_mark_paid,
)


@admin.register(BankTransfer)
class BankTransferAdmin(ConsoleMixin, IndexedSearchMixin, LargeTableMixin, ServiceOwnedAdmin):
    form = BankTransferForm
    list_display = (
        "reference",
        "order",
        "amount",
        "currency",
        "status",
        "holder_name",
        "refund",
        "exported_at",
        "paid_at",
    )
    list_select_related = ("refund__order",)
    list_filter = ("status", "created_date")
    # The reference has a plain unique index: an exact, case-sensitive match is what it serves.
    search_fields = ("reference__exact", "=refund__order__number")
    search_help_text = "A transfer reference (exactly) or an order number."
    ordering = ("-id",)
    sortable_by = ("reference",)
    console_decisions = (EXPORT, MARK_PAID)
    console_select_related = ("refund__order",)
    actions = (
        bulk_action("export", "Export the selected transfers as a CSV file for the bank"),
        bulk_action("mark-paid", "Mark the selected transfers paid (settles their refunds)"),
    )
    # Staff may correct the account before the transfer is exported; the money and its state follow the refund.
    readonly_fields = (
        "masked_iban",
        "refund",
        "amount",
        "currency",
        "reference",
        "status",
        "exported_at",
        "paid_at",
        *RECORD_FIELDS,
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != BankTransferStatus.PENDING:
            return ("holder_name", *self.readonly_fields)
        return self.readonly_fields

    def get_exclude(self, request, obj=None):
        if obj is not None and obj.status != BankTransferStatus.PENDING:
            return ("new_iban",)
        return ()

    @admin.display(description="IBAN")
    def masked_iban(self, transfer):
        return mask_iban(transfer.iban) or "-"

    @admin.display(description="Order")
    def order(self, transfer):
        return transfer.refund.order

    def has_change_permission(self, request, obj=None):
        # Only a transfer not yet exported has anything to edit: the others' pages show no Save.
        return super().has_change_permission(request, obj) and (obj is None or obj.status == BankTransferStatus.PENDING)


@admin.register(LoyaltyTransaction)
class LoyaltyTransactionAdmin(LargeTableMixin, ReadOnlyAdmin):
    list_display = ("customer", "amount", "currency", "refund", "description", "created_date", "id")
    list_select_related = ("customer", "refund")
    list_filter = ("customer__channel", "created_date")
    search_fields = ("=customer__email",)
    search_help_text = "A customer's e-mail address."
    ordering = ("-id",)
    sortable_by = ("created_date", "id")


dashboard_card(
    DashboardCard(
        key="refunds_failed",
        title="Refunds failed",
        model=Refund,
        rows=lambda: Refund.objects.filter(status=RefundStatus.FAILED),
        changelist_query="status__exact=failed",
        tone="danger",
        position=30,
    )
)


def _oldest_lease_detail() -> str | None:
    oldest = past_lease().order_by("leased_until").values_list("leased_until", flat=True).first()
    return f"lease ran out {timesince(oldest)} ago" if oldest else None


dashboard_card(
    DashboardCard(
        key="refunds_stuck",
        title="Refunds stuck in processing",
        model=Refund,
        rows=past_lease,
        changelist_query="lease=expired",
        detail=_oldest_lease_detail,
        tone="danger",
        position=40,
    )
)
dashboard_card(
    DashboardCard(
        key="transfers_to_export",
        title="Bank transfers to export",
        model=BankTransfer,
        rows=lambda: BankTransfer.objects.filter(status=BankTransferStatus.PENDING),
        changelist_query="status__exact=pending",
        position=50,
    )
)
