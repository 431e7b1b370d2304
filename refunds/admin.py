from django.contrib import admin

from cancellations.admin import CancellationPlanAdmin
from orders.admin import RECORD_FIELDS, IndexedSearchMixin, ReadOnlyAdmin, ReadOnlyInline, ServiceOwnedAdmin
from refunds.models import BankTransfer, LoyaltyTransaction, Refund


@admin.register(Refund)
class RefundAdmin(IndexedSearchMixin, ReadOnlyAdmin):
    list_display = (
        "id",
        "order",
        "plan",
        "kind",
        "method",
        "amount",
        "currency",
        "status",
        "attempts",
        "settled_at",
        "created_date",
    )
    list_select_related = ("plan__order",)
    list_filter = ("status", "method", "kind")
    search_fields = ("=plan__order__number", "gateway_reference__exact")
    date_hierarchy = "created_date"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description="Order", ordering="plan__order__number")
    def order(self, refund):
        return refund.plan.order


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ("kind", "method", "amount", "currency", "status", "attempts", "last_error", "settled_at")


# cancellations must not import refunds, so the plan page gets its refunds from this side.
CancellationPlanAdmin.inlines = [*CancellationPlanAdmin.inlines, RefundInline]


@admin.register(BankTransfer)
class BankTransferAdmin(IndexedSearchMixin, ServiceOwnedAdmin):
    list_display = ("reference", "refund", "holder_name", "amount", "currency", "status", "exported_at", "paid_at")
    list_select_related = ("refund",)
    list_filter = ("status",)
    # The reference has a plain unique index: an exact, case-sensitive match is what it serves.
    search_fields = ("reference__exact", "=refund__plan__order__number")
    date_hierarchy = "created_date"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    # Staff may correct the account before the transfer is exported; the money and its state follow the refund.
    readonly_fields = ("refund", "amount", "currency", "reference", "status", "exported_at", "paid_at", *RECORD_FIELDS)


@admin.register(LoyaltyTransaction)
class LoyaltyTransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "customer", "amount", "currency", "refund", "description", "created_date")
    list_select_related = ("customer", "refund")
    list_filter = ("customer__channel",)
    search_fields = ("=customer__email",)
    date_hierarchy = "created_date"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
