from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.utils import timezone
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from common.admin import LargeTableMixin
from common.errors import ApplicationError
from common.masking import mask_iban
from orders.admin import RECORD_FIELDS, IndexedSearchMixin, ReadOnlyAdmin, ReadOnlyInline, ServiceOwnedAdmin
from refunds import services
from refunds.models import BankTransfer, BankTransferStatus, LoyaltyTransaction, Refund


@admin.register(Refund)
class RefundAdmin(IndexedSearchMixin, LargeTableMixin, ReadOnlyAdmin):
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
    # Only the (plan, kind) unique index holds the kind: a kind few refunds have reads all of that index.
    list_filter = ("channel", "status", "method", "kind", "created_date")
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


@admin.register(BankTransfer)
class BankTransferAdmin(IndexedSearchMixin, LargeTableMixin, ServiceOwnedAdmin):
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
    actions = ("export_for_the_bank", "mark_paid")
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

    @admin.action(description="Export the selected transfers as a CSV file for the bank")
    def export_for_the_bank(self, request, queryset):
        content = services.bank_transfers_export(transfer_ids=list(queryset.values_list("pk", flat=True)))
        response = HttpResponse(content, content_type="text/csv")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="bank-transfers-{stamp}.csv"'
        return response

    @admin.action(description="Mark the selected transfers paid (settles their refunds)")
    def mark_paid(self, request, queryset):
        try:
            paid = services.bank_transfers_mark_paid(transfer_ids=list(queryset.values_list("pk", flat=True)))
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"{paid} transfer(s) paid; their refunds are settled.", messages.SUCCESS)


@admin.register(LoyaltyTransaction)
class LoyaltyTransactionAdmin(LargeTableMixin, ReadOnlyAdmin):
    list_display = ("customer", "amount", "currency", "refund", "description", "created_date", "id")
    list_select_related = ("customer", "refund")
    list_filter = ("customer__channel", "created_date")
    search_fields = ("=customer__email",)
    search_help_text = "A customer's e-mail address."
    ordering = ("-id",)
    sortable_by = ("created_date", "id")
