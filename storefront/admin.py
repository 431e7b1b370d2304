from django.contrib import admin

from common.admin import LargeTableMixin
from common.outbox_admin import OUTBOX_LIST_DISPLAY, OUTBOX_READONLY, OutboxAdminMixin
from storefront import services
from storefront.models import StorefrontSync


@admin.register(StorefrontSync)
class StorefrontSyncAdmin(OutboxAdminMixin, LargeTableMixin, admin.ModelAdmin):
    """Cancellations told to the storefronts; "Send again" retries a failed one now."""

    list_display = ("id", "order", "channel", *OUTBOX_LIST_DISPLAY)
    list_select_related = ("order", "channel")
    list_filter = ("status", "channel")
    search_fields = ("order__id",)
    search_help_text = "An order id."
    readonly_fields = ("order", "channel", "plan_id", "remote_id", "reason", *OUTBOX_READONLY)
    fields = readonly_fields

    def requeue_one(self, row_id: int):
        services.storefront_sync_retry(sync_id=row_id)

    def get_search_results(self, request, queryset, search_term):
        # The order's foreign-key index serves an order id; anything else finds nothing (and reads nothing).
        term = search_term.strip()
        if not term:
            return queryset, False
        return (queryset.filter(order_id=int(term)) if term.isdigit() and len(term) < 19 else queryset.none()), False
