from django.contrib import admin

from common.models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """What a client's Idempotency-Key replays; written by the API only, kept for a day."""

    list_display = ("id", "user", "key", "state", "response_status", "created_date")
    list_select_related = ("user",)
    list_filter = ("state", "response_status")
    search_fields = ("=key",)
    date_hierarchy = "created_date"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
