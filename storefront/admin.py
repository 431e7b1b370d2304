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
    search_fields = ("=remote_id",)
    search_help_text = "The order's id in the store (remote_id), exactly."
    readonly_fields = ("order", "channel", "plan_id", "remote_id", "reason", *OUTBOX_READONLY)
    fields = readonly_fields

    def requeue_one(self, row_id: int):
        services.storefront_sync_retry(sync_id=row_id)
