from django.contrib import admin

from channels.models import Channel


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "channel_type", "is_active", "created_date")
    list_filter = ("channel_type", "is_active")
    search_fields = ("name",)
    filter_horizontal = ("users",)
    readonly_fields = ("uuid", "created_date", "modified_date")
