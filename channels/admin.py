from django.contrib import admin, messages

from channels import services
from channels.models import BatchRequest, Channel, IntegrationAction


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "channel_type", "is_active", "created_date")
    list_filter = ("channel_type", "is_active")
    search_fields = ("name",)
    filter_horizontal = ("users",)
    readonly_fields = ("uuid", "created_date", "modified_date")


class SyncRecordAdmin(admin.ModelAdmin):
    """Written by the channel app through the API; read here."""

    list_select_related = ("channel",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IntegrationAction)
class IntegrationActionAdmin(SyncRecordAdmin):
    list_display = ("id", "channel", "content_type", "object_id", "remote_id", "version_date", "modified_date")
    list_filter = ("content_type",)
    search_fields = ("=remote_id", "=object_id")
    actions = ["mark_unsent"]

    @admin.action(description="Offer the selected objects again (clear version_date)")
    def mark_unsent(self, request, queryset):
        changed = 0
        for channel_id, content_type, object_id in queryset.values_list("channel_id", "content_type", "object_id"):
            changed += services.integration_actions_mark_unsent(
                channel_id=channel_id, objects=[(content_type, object_id)]
            )
        self.message_user(request, f"{changed} objects will be offered again.", messages.SUCCESS)


@admin.register(BatchRequest)
class BatchRequestAdmin(SyncRecordAdmin):
    list_display = ("id", "channel", "content_type", "status", "local_batch_id", "remote_batch_id", "created_date")
    list_filter = ("status", "content_type")
    search_fields = ("=local_batch_id", "=remote_batch_id")
    date_hierarchy = "created_date"
