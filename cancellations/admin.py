from django.contrib import admin, messages
from django.db import models

from cancellations import services
from cancellations.models import (
    CancellationPlan,
    CancellationPlanItem,
    CancellationQuote,
    CancellationReason,
    CancellationRequest,
    EasyReturn,
)
from cancellations.serializers import mask_iban
from common.errors import ApplicationError
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
class EasyReturnAdmin(admin.ModelAdmin):
    list_display = ("code", "shipping_company", "status", "start_date", "end_date", "tracking_number", "created_date")
    list_filter = ("status", "shipping_company")
    search_fields = ("=code", "=tracking_number")
    date_hierarchy = "created_date"
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
class CancellationPlanAdmin(IndexedSearchMixin, ServiceOwnedAdmin):
    list_display = (
        "id",
        "order",
        "plan_type",
        "status",
        "forced_refund_amount",
        "is_cargo_refund",
        "refund_invoice_number",
        "created_by",
        "created_date",
    )
    list_select_related = ("order", "created_by")
    list_filter = ("plan_type", "status", "is_cargo_refund")
    # Only a plain index on the invoice number: an exact, case-sensitive match is what it serves.
    search_fields = ("=order__number", "refund_invoice_number__exact")
    date_hierarchy = "created_date"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    # Accounting issues the refund invoice after the plan; the rest is the decision the service made.
    readonly_fields = (
        "order",
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
class CancellationPlanItemAdmin(IndexedSearchMixin, ReadOnlyAdmin):
    list_display = ("id", "plan", "order_item", "reason", "quantity", "refund_amount")
    list_select_related = ("plan", "order_item", "reason")
    list_filter = ("plan__plan_type", "reason")
    search_fields = ("=order_item__order__number", "=order_item__product__sku")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER


@admin.register(CancellationRequest)
class CancellationRequestAdmin(IndexedSearchMixin, ServiceOwnedAdmin):
    list_display = (
        "id",
        "order",
        "order_item",
        "cancellation_type",
        "status",
        "reason",
        "quantity",
        "easy_return",
        "cancellation_plan",
        "created_date",
    )
    list_select_related = ("order_item__order", "reason", "easy_return", "cancellation_plan")
    list_filter = (
        "status",
        "cancellation_type",
        ("order_item__order__channel", admin.RelatedOnlyFieldListFilter),
        "reason",
    )
    search_fields = ("=order_item__order__number", "=order_item__product__sku", "=easy_return__code")
    date_hierarchy = "created_date"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    actions = ("approve_selected", "reject_selected")
    # Everything about a request changes through its services (the checks, the item's status, the audit trail):
    # the approve and reject actions here, the API for the channel's own edits.
    exclude = ("iban",)
    readonly_fields = (
        "order_item",
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

    @admin.display(description="Order", ordering="order_item__order__number")
    def order(self, cancellation_request):
        return cancellation_request.order_item.order

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
class CancellationQuoteAdmin(IndexedSearchMixin, ReadOnlyAdmin):
    """Priced cancellations: what was quoted, to whom, and the plan it became, if any."""

    list_display = ("id", "order", "created_by", "created_date", "expires_at", "plan")
    list_select_related = ("order", "created_by", "plan")
    search_fields = ("=order__number",)
    readonly_fields = ("order", "created_by", "body_fingerprint", "order_version", "quote", "expires_at", "plan")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
