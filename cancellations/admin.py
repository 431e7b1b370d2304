from django.contrib import admin, messages
from django.db import models

from cancellations import services
from cancellations.models import (
    CancellationPlan,
    CancellationPlanItem,
    CancellationPlanStatus,
    CancellationQuote,
    CancellationReason,
    CancellationRequest,
    EasyReturn,
)
from common.admin import LargeTableMixin
from common.errors import ApplicationError
from common.masking import mask_iban
from orders.admin import (
    RECORD_FIELDS,
    IndexedSearchMixin,
    OrderAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceOwnedAdmin,
)
from refunds.admin import RefundInline


def run_service_for_each(model_admin, request, queryset, call, *, done: str, refused: str) -> None:
    """An admin action over the selected rows, one service call each: what a rule refused is reported, not raised."""
    succeeded, refusals = 0, []
    for row in queryset.order_by("id"):
        try:
            call(row)
            succeeded += 1
        except ApplicationError as exc:
            refusals.append(f"#{row.pk}: {exc.message}")
    if succeeded:
        model_admin.message_user(request, f"{succeeded} {done}.", messages.SUCCESS)
    for line in refusals:
        model_admin.message_user(request, f"{refused}: {line}", messages.ERROR)


@admin.register(CancellationReason)
class CancellationReasonAdmin(admin.ModelAdmin):
    list_display = ("subject", "cancellation_type", "order", "is_active", "extra_information_needed", "send_to_remote")
    list_filter = ("cancellation_type", "is_active")
    search_fields = ("subject",)
    readonly_fields = RECORD_FIELDS


@admin.register(EasyReturn)
class EasyReturnAdmin(LargeTableMixin, admin.ModelAdmin):
    list_display = ("code", "shipping_company", "status", "start_date", "end_date", "tracking_number", "created_date")
    # No shipping-company filter: the column has no choices, so its filter lists a DISTINCT over every return. No
    # index holds the status: a status few returns have reads them all.
    list_filter = ("status", "created_date")
    search_fields = ("=code", "=tracking_number")
    search_help_text = "An easy-return code or a tracking number."
    ordering = ("-id",)
    sortable_by = ("code", "created_date")
    readonly_fields = ("status", "raw_request", "raw_response", *RECORD_FIELDS)
    # What the carrier issued is fixed once saved; tracking data arrives later and staff key it in.
    issued_fields = ("shipping_company", "code", "start_date", "end_date", "max_count")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return (*self.issued_fields, *self.readonly_fields)


class CancellationPlanItemInline(ReadOnlyInline):
    model = CancellationPlanItem
    fields = ("order_item", "reason", "quantity", "refund_amount")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_item", "reason")


@admin.register(CancellationPlan)
class CancellationPlanAdmin(IndexedSearchMixin, LargeTableMixin, ServiceOwnedAdmin):
    list_display = (
        "order",
        "status",
        "plan_type",
        "forced_refund_amount",
        "is_cargo_refund",
        "refund_invoice_number",
        "channel",
        "created_by",
        "created_date",
        "id",
    )
    list_select_related = ("order", "channel", "created_by")
    # No index holds is_cargo_refund: a choice few plans have reads them all.
    list_filter = ("channel", "status", "plan_type", "is_cargo_refund", "created_date")
    # Only a plain index on the invoice number: an exact, case-sensitive match is what it serves.
    search_fields = ("=order__number", "refund_invoice_number__exact")
    search_help_text = "An order number or a refund invoice number (exactly)."
    sortable_by = ("created_date", "id")
    # Accounting issues the refund invoice after the plan; the rest is the decision the service made.
    readonly_fields = (
        "order",
        "channel",
        "plan_type",
        "status",
        "forced_refund_amount",
        "is_cargo_refund",
        "created_by",
        *RECORD_FIELDS,
    )
    inlines = [CancellationPlanItemInline, RefundInline]

    actions = ("retry_selected",)

    @admin.action(description="Retry the failed refunds of the selected plans")
    def retry_selected(self, request, queryset):
        run_service_for_each(
            self,
            request,
            queryset,
            lambda plan: services.plan_retry(plan_id=plan.pk, actor=request.user),
            done="plan(s) queued again",
            refused="Not retried",
        )


class CancellationPlanInline(ReadOnlyInline):
    model = CancellationPlan
    fields = ("plan_type", "status", "forced_refund_amount", "is_cargo_refund", "created_by", "created_date")
    ordering = ("id",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")


# orders must not import cancellations, so the order page gets its plans from this side.
OrderAdmin.inlines = [*OrderAdmin.inlines, CancellationPlanInline]


@admin.register(CancellationPlanItem)
class CancellationPlanItemAdmin(IndexedSearchMixin, LargeTableMixin, ReadOnlyAdmin):
    list_display = ("order", "sku", "quantity", "refund_amount", "plan", "reason", "order_item", "id")
    list_select_related = ("plan", "order_item__order", "order_item__product", "reason")
    list_filter = ("plan__plan_type", "reason")
    search_fields = ("=order_item__order__number", "=order_item__product__sku")
    search_help_text = "An order number or a SKU."
    ordering = ("-id",)
    sortable_by = ("id",)

    @admin.display(description="Order")
    def order(self, plan_item):
        return plan_item.order_item.order

    @admin.display(description="SKU")
    def sku(self, plan_item):
        return plan_item.order_item.product.sku


class PlanStatusFilter(admin.SimpleListFilter):
    """The status of the plan a request became, under a title of its own (a field filter would be another "status")."""

    title = "plan status"
    parameter_name = "plan_status"

    def lookups(self, request, model_admin):
        return CancellationPlanStatus.choices

    def queryset(self, request, queryset):
        if self.value() in CancellationPlanStatus.values:
            return queryset.filter(cancellation_plan__status=self.value())
        return queryset


@admin.register(CancellationRequest)
class CancellationRequestAdmin(IndexedSearchMixin, LargeTableMixin, ServiceOwnedAdmin):
    list_display = (
        "order",
        "sku",
        "quantity",
        "status",
        "cancellation_type",
        "reason",
        "channel",
        "cancellation_plan",
        "easy_return",
        "created_date",
        "id",
    )
    list_select_related = ("order_item__order", "order_item__product")
    list_prefetch_related = ("reason", "channel", "easy_return", "cancellation_plan")
    list_filter = ("channel", "status", "cancellation_type", PlanStatusFilter, "reason", "created_date")
    search_fields = ("=order_item__order__number", "=order_item__product__sku", "=easy_return__code")
    search_help_text = "An order number, a SKU or an easy-return code."
    sortable_by = ("created_date", "id")
    actions = ("approve_selected", "reject_selected")
    # Everything about a request changes through its services (the checks, the item's status, the audit trail):
    # the approve and reject actions here, the API for the channel's own edits.
    exclude = ("iban",)
    readonly_fields = (
        "order_item",
        "channel",
        "reason",
        "description",
        "cancellation_type",
        "quantity",
        "status",
        "masked_iban",
        "holder_name",
        "fully_refund_as_loyalty_money",
        "easy_return",
        "cancellation_plan",
        *RECORD_FIELDS,
    )

    @admin.display(description="Order")
    def order(self, cancellation_request):
        return cancellation_request.order_item.order

    @admin.display(description="SKU")
    def sku(self, cancellation_request):
        return cancellation_request.order_item.product.sku

    @admin.display(description="IBAN")
    def masked_iban(self, cancellation_request):
        return mask_iban(cancellation_request.iban) or "-"

    def _decide(self, request, queryset, decide, verb):
        run_service_for_each(
            self,
            request,
            queryset,
            lambda row: decide(request_id=row.pk, actor=request.user),
            done=f"request(s) {verb}",
            refused=f"Not {verb}",
        )

    @admin.action(description="Approve the selected requests (cancel or return and refund)")
    def approve_selected(self, request, queryset):
        self._decide(request, queryset, services.cancellation_request_approve, "approved")

    @admin.action(description="Reject the selected requests")
    def reject_selected(self, request, queryset):
        self._decide(request, queryset, services.cancellation_request_reject, "rejected")


@admin.register(CancellationQuote)
class CancellationQuoteAdmin(IndexedSearchMixin, LargeTableMixin, ReadOnlyAdmin):
    """Priced cancellations: what was quoted, to whom, and the plan it became, if any."""

    list_display = ("id", "order", "created_by", "created_date", "expires_at", "plan")
    list_select_related = ("order", "created_by", "plan")
    search_fields = ("=order__number",)
    readonly_fields = ("order", "created_by", "body_fingerprint", "order_version", "quote", "expires_at", "plan")
    sortable_by = ("created_date",)
