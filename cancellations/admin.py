from django.contrib import admin, messages
from django.db import models
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone
from django.utils.timesince import timesince

from cancellations import services
from cancellations.models import (
    CancellationPlan,
    CancellationPlanItem,
    CancellationPlanStatus,
    CancellationQuote,
    CancellationReason,
    CancellationRequest,
    CancellationRequestStatus,
    EasyReturn,
    RequestIdCeiling,
)
from channels.models import Channel
from common.admin import LargeTableMixin
from common.console import ConsoleMixin, Decision, Outcome, Preview, bulk_action
from common.dashboard import DashboardCard, dashboard_card
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
from refunds.admin import RefundAdmin, RefundInline, refund_preview_line, refunds_outcome
from refunds.models import Refund, RefundStatus


def last_failed_refund_error(plan_ref) -> Subquery:
    """The error of the plan's latest failed refund, for a list column: one subquery in the page's own query."""
    failed = Refund.objects.filter(plan_id=plan_ref, status=RefundStatus.FAILED).order_by("-id")
    return Subquery(failed.values("last_error")[:1])


def short(text: str | None, limit: int = 80) -> str:
    if not text:
        return "-"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# Decisions: each runs the service the API runs, with its checks and locks ----------------------------------------


def request_summary(request: CancellationRequest) -> str:
    item = request.order_item
    return (
        f"{request.get_cancellation_type_display()} of {request.quantity} x {item.product.sku} ({item.product.name}) "
        f"of order {item.order.number}; reason: {request.reason.subject}."
    )


def approval_preview(request: CancellationRequest) -> Preview:
    try:
        refunds = services.cancellation_request_approve_preview(request_id=request.pk)
    except ApplicationError as exc:
        return Preview(refusal=exc.message, summary=request_summary(request))
    summary = request_summary(request) + ("" if refunds else " No money moves.")
    return Preview(lines=[refund_preview_line(refund) for refund in refunds], summary=summary)


def approve(request: CancellationRequest, user) -> Outcome:
    approved = services.cancellation_request_approve(request_id=request.pk, actor=user)
    refunds = list(Refund.objects.filter(plan_id=approved.cancellation_plan_id).order_by("id"))
    result, level = refunds_outcome(refunds) if refunds else ("no money to move", messages.SUCCESS)
    return Outcome(
        f"Request #{request.pk} approved (plan #{approved.cancellation_plan_id}): {result}.",
        level,
        history=f"Approved: plan #{approved.cancellation_plan_id}; {result}.",
    )


def reject(request: CancellationRequest, user) -> Outcome:
    services.cancellation_request_reject(request_id=request.pk, actor=user)
    return Outcome(f"Request #{request.pk} rejected: {request_summary(request)}", history="Rejected.")


def retry_preview(plan: CancellationPlan) -> Preview:
    failed = plan.refunds.filter(status=RefundStatus.FAILED).select_related("order__customer").order_by("id")
    lines = [
        refund_preview_line(refund, note=f"attempts so far: {refund.attempts}; last error: {short(refund.last_error)}")
        for refund in failed
    ]
    if not lines:
        return Preview(refusal="The plan has no failed refund.")
    return Preview(
        lines=lines, summary=f"Every failed refund of plan #{plan.pk} (order {plan.order.number}) runs again."
    )


def retry(plan: CancellationPlan, user) -> Outcome:
    failed_ids = list(plan.refunds.filter(status=RefundStatus.FAILED).values_list("pk", flat=True))
    services.plan_retry(plan_id=plan.pk, actor=user)
    retried = list(Refund.objects.filter(pk__in=failed_ids).order_by("id"))
    result, level = refunds_outcome(retried, is_retry=True)
    return Outcome(f"Plan #{plan.pk} retried: {result}.", level, history=f"Retried: {result}.")


APPROVE = Decision(
    name="approve",
    label="Approve",
    past="approved",
    applies=lambda request: request.status == CancellationRequestStatus.WAITING,
    preview=approval_preview,
    perform=approve,
)
REJECT = Decision(
    name="reject",
    label="Reject",
    past="rejected",
    applies=lambda request: request.status == CancellationRequestStatus.WAITING,
    preview=lambda request: Preview(
        summary=request_summary(request) + " No money moves; the item stays with the customer."
    ),
    perform=reject,
    is_danger=True,
)
RETRY_PLAN = Decision(
    name="retry",
    label="Retry failed refunds",
    past="retried",
    applies=lambda plan: plan.status == CancellationPlanStatus.FAILED,
    preview=retry_preview,
    perform=retry,
)
# A refund is retried with the rest of its plan: the plan fails and is retried as one.
RETRY_REFUND = Decision(
    name="retry",
    label="Retry",
    past="retried",
    applies=lambda refund: refund.status == RefundStatus.FAILED,
    preview=lambda refund: retry_preview(refund.plan),
    perform=lambda refund, user: retry(refund.plan, user),
)
RefundAdmin.console_decisions = (RETRY_REFUND,)
RefundAdmin.console_select_related = ("plan__order",)
RefundAdmin.actions = (bulk_action("retry", "Retry the plans of the selected failed refunds"),)


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
        return super().get_queryset(request).select_related("order_item__order", "order_item__product", "reason")


@admin.register(CancellationPlan)
class CancellationPlanAdmin(ConsoleMixin, IndexedSearchMixin, LargeTableMixin, ServiceOwnedAdmin):
    list_display = (
        "order",
        "status",
        "last_error_short",
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
    list_only = (
        *("status", "plan_type", "forced_refund_amount", "is_cargo_refund", "refund_invoice_number", "channel"),
        *("created_date", "order__number", "created_by__username"),
    )
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
    console_decisions = (RETRY_PLAN,)
    console_select_related = ("order",)
    actions = (bulk_action("retry", "Retry the failed refunds of the selected plans"),)

    def page_annotations(self):
        return {"last_error": last_failed_refund_error(OuterRef("pk"))}

    @admin.display(description="Last error")
    def last_error_short(self, plan):
        return short(plan.last_error)


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
class CancellationRequestAdmin(ConsoleMixin, IndexedSearchMixin, LargeTableMixin, ServiceOwnedAdmin):
    list_display = (
        "order",
        "sku",
        "quantity",
        "value",
        "status",
        "last_error_short",
        "cancellation_type",
        "reason",
        "channel",
        "cancellation_plan",
        "easy_return",
        "created_date",
        "id",
    )
    # A row's own easy return and plan are joined; the few reasons and channels a page shows, one query each; what
    # the order, SKU and value columns read of its item, order and product, values of the page's query
    # (page_annotations).
    list_select_related = ("easy_return", "cancellation_plan")
    list_prefetch_related = ("reason", "channel")
    list_only = (
        *("created_date", "quantity", "status", "cancellation_type", "reason", "channel"),
        *("easy_return__code", "cancellation_plan__plan_type", "cancellation_plan__status"),
    )
    list_filter = ("channel", "status", "cancellation_type", PlanStatusFilter, "reason", "created_date")
    search_fields = ("=order_item__order__number", "=order_item__product__sku", "=easy_return__code")
    search_help_text = "An order number, a SKU or an easy-return code."
    sortable_by = ("created_date", "id")
    console_decisions = (APPROVE, REJECT)
    console_select_related = ("order_item__order", "order_item__product", "reason")
    actions = (
        bulk_action("approve", "Approve the selected requests (cancel or return and refund)"),
        bulk_action("reject", "Reject the selected requests"),
    )
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
        return cancellation_request.order_number

    @admin.display(description="SKU")
    def sku(self, cancellation_request):
        return cancellation_request.item_sku

    @admin.display(description="IBAN")
    def masked_iban(self, cancellation_request):
        return mask_iban(cancellation_request.iban) or "-"

    def page_annotations(self):
        # Values, where joining the item, its order and its product built three more objects a row (half the time
        # the page took to read its rows).
        return {
            "last_error": last_failed_refund_error(OuterRef("cancellation_plan_id")),
            "order_number": F("order_item__order__number"),
            "order_currency": F("order_item__order__currency"),
            "item_sku": F("order_item__product__sku"),
            "item_price": F("order_item__price"),
        }

    def has_change_permission(self, request, obj=None):
        # Every field is the services' (a decision is made with the buttons): the page shows no Save.
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.display(description="Value")
    def value(self, cancellation_request):
        """The requested units at the item's price, before its share of the order discount."""
        value = cancellation_request.item_price * cancellation_request.quantity
        return f"{value:.2f} {cancellation_request.order_currency.upper()}"

    @admin.display(description="Last error")
    def last_error_short(self, cancellation_request):
        return short(cancellation_request.last_error)


@admin.register(CancellationQuote)
class CancellationQuoteAdmin(IndexedSearchMixin, LargeTableMixin, ReadOnlyAdmin):
    """Priced cancellations: what was quoted, to whom, and the plan it became, if any."""

    list_display = ("id", "order", "created_by", "created_date", "expires_at", "plan")
    list_select_related = ("order", "created_by", "plan")
    search_fields = ("=order__number",)
    readonly_fields = ("order", "created_by", "body_fingerprint", "order_version", "quote", "expires_at", "plan")
    sortable_by = ("created_date",)


@admin.register(RequestIdCeiling)
class RequestIdCeilingAdmin(ReadOnlyAdmin):
    """The id ceilings the request table's insert trigger keeps (see RequestIdCeiling): shown to explain a date
    filtered list, never edited here (a ceiling set too low would hide requests from those lists)."""

    list_display = ("channel", "day", "id_ceiling")
    list_filter = ("channel",)
    ordering = ("channel", "-day")


def _oldest_waiting_detail() -> str | None:
    # The oldest waiting request of each channel is the last entry of its (channel, status, -id) index: one probe
    # per channel, where an oldest-first scan of every waiting request would read them all.
    oldest_of_channel = (
        CancellationRequest.objects.filter(channel=OuterRef("pk"), status=CancellationRequestStatus.WAITING)
        .order_by("id")
        .values("created_date")[:1]
    )
    dates = Channel.objects.annotate(oldest=Subquery(oldest_of_channel)).values_list("oldest", flat=True)
    oldest = min((date for date in dates if date is not None), default=None)
    return f"oldest waiting {timesince(oldest, timezone.now())}" if oldest else None


dashboard_card(
    DashboardCard(
        key="requests_waiting",
        title="Requests waiting a decision",
        model=CancellationRequest,
        rows=lambda: CancellationRequest.objects.filter(status=CancellationRequestStatus.WAITING),
        changelist_query="status__exact=waiting",
        detail=_oldest_waiting_detail,
        position=10,
    )
)
dashboard_card(
    DashboardCard(
        key="plans_failed",
        title="Plans failed",
        model=CancellationPlan,
        rows=lambda: CancellationPlan.objects.filter(status=CancellationPlanStatus.FAILED),
        changelist_query="status__exact=failed",
        tone="danger",
        position=20,
    )
)
