import uuid

from django import forms
from django.contrib import admin, messages

from channels import services
from channels.conf import conf_for_response, conf_keep_write_only
from channels.models import BatchRequest, BatchRequestStatus, Channel, IntegrationAction, SyncContentType
from common.admin import LargeTableMixin

# Ids past a bigint are no object's id (and the database would refuse the comparison).
MAX_OBJECT_ID = 2**63 - 1


class ChannelForm(forms.ModelForm):
    """`conf` without its write-only values (the storefront's access token): they are shown as `<key>_set` and kept
    when the conf comes back without them; typing one in the conf replaces it."""

    class Meta:
        model = Channel
        fields = ("name", "channel_type", "conf", "is_active", "users")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "conf" in self.fields and self.instance.pk:
            self.initial["conf"] = conf_for_response(self.instance.conf)

    def clean_conf(self):
        return conf_keep_write_only(self.cleaned_data["conf"], self.instance.conf if self.instance.pk else None)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    list_display = ("name", "channel_type", "is_active", "created_date")
    list_filter = ("channel_type", "is_active")
    search_fields = ("name",)
    filter_horizontal = ("users",)
    readonly_fields = ("uuid", "created_date", "modified_date")


class ChannelScopedChoiceFilter(admin.SimpleListFilter):
    """A choice column that the table's indexes hold only after the channel. Naming every channel lets them serve it
    alone (a probe per channel); a bare filter on the column reads the whole table for a value few rows have."""

    field_name = ""
    field_choices = ()

    def lookups(self, request, model_admin):
        return self.field_choices

    def queryset(self, request, queryset):
        if self.value() not in dict(self.field_choices):
            return queryset
        return queryset.filter(channel__in=Channel.objects.values("pk"), **{self.field_name: self.value()})


class ContentTypeFilter(ChannelScopedChoiceFilter):
    title = parameter_name = field_name = "content_type"
    field_choices = SyncContentType.choices


class BatchStatusFilter(ChannelScopedChoiceFilter):
    title = parameter_name = field_name = "status"
    field_choices = BatchRequestStatus.choices


class SyncRecordAdmin(LargeTableMixin, admin.ModelAdmin):
    """Written by the channel app through the API; read here. Newest first; no date filter, as no index serves one."""

    list_select_related = ("channel",)
    ordering = ("-id",)
    sortable_by = ("id",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IntegrationAction)
class IntegrationActionAdmin(SyncRecordAdmin):
    list_display = ("id", "channel", "content_type", "object_id", "remote_id", "version_date", "modified_date")
    list_filter = ("channel", ContentTypeFilter)
    search_fields = ("remote_id", "object_id")
    search_help_text = "A remote id or an object id, exactly."
    actions = ["mark_unsent"]

    def get_search_results(self, request, queryset, search_term):
        # Both indexes start with (channel, content_type): naming every channel and content type lets each serve a
        # remote id or an object id alone (a probe per pair), one query per column, where a bare lookup of either
        # column, or both ORed, reads the whole table.
        rows = IntegrationAction.objects.order_by().filter(
            channel__in=Channel.objects.values("pk"), content_type__in=SyncContentType.values
        )
        for term in search_term.split():
            matches = rows.filter(remote_id=term).values("pk")
            if term.isascii() and term.isdigit() and int(term) <= MAX_OBJECT_ID:
                matches = matches.union(rows.filter(object_id=int(term)).values("pk"))
            queryset = queryset.filter(pk__in=matches)
        return queryset, False

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
    # No index holds the content type: its filter reads the table for a type few batches have.
    list_filter = ("channel", BatchStatusFilter, "content_type")
    # The remote batch id has no index to serve a search.
    search_fields = ("local_batch_id",)
    search_help_text = "A local batch id (a UUID), exactly."

    def get_search_results(self, request, queryset, search_term):
        # Compared as a UUID, which its unique index serves; Django's text comparison of the column reads every row.
        for term in search_term.split():
            try:
                batch_id = uuid.UUID(term)
            except ValueError:
                return queryset.none(), False
            queryset = queryset.filter(local_batch_id=batch_id)
        return queryset, False
