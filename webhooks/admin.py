import json
import uuid

from django import forms
from django.contrib import admin

from common.admin import LargeTableMixin
from common.errors import ApplicationError
from common.outbox_admin import OUTBOX_LIST_DISPLAY, OUTBOX_READONLY, OutboxAdminMixin
from webhooks import services
from webhooks.models import Webhook, WebhookAttempt, WebhookDelivery, WebhookEventType


class WebhookForm(forms.ModelForm):
    """The secret is never shown: a new one replaces it only when typed."""

    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=WebhookEventType.choices, widget=forms.CheckboxSelectMultiple)
    new_secret = forms.CharField(
        required=False,
        min_length=16,
        max_length=255,
        widget=forms.PasswordInput,
        help_text="Type a new secret to replace the current one (at least 16 characters); leave empty to keep it.",
    )

    class Meta:
        model = Webhook
        fields = ("channel", "url", "events", "is_active")

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("new_secret"):
            self.add_error("new_secret", "A new webhook needs a secret.")
        url = cleaned.get("url")
        if url:
            try:
                services.webhook_url_check(url)
            except ApplicationError as exc:
                self.add_error("url", exc.message)
        return cleaned


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ("id", "channel", "url", "is_active", "modified_date")
    list_filter = ("is_active", "channel")
    search_fields = ("url",)
    readonly_fields = ("secret_set", "created_date", "modified_date")

    @admin.display(description="secret")
    def secret_set(self, webhook):
        return "set (hidden)" if webhook.secret else "-"

    def save_model(self, request, obj, form, change):
        # Through the services, so the channel's `webhook_events` follows the subscription.
        data = {name: form.cleaned_data[name] for name in ("channel", "url", "events", "is_active")}
        if form.cleaned_data.get("new_secret"):
            data["secret"] = form.cleaned_data["new_secret"]
        if change:
            services.webhook_update(webhook=obj, **data)
        else:
            form.instance = services.webhook_create(**data)
            obj.pk = form.instance.pk

    def delete_model(self, request, obj):
        services.webhook_delete(webhook=obj)

    def delete_queryset(self, request, queryset):
        for webhook in queryset:
            services.webhook_delete(webhook=webhook)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("number", "status_code", "duration_ms", "response_excerpt", "error", "created_date")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(OutboxAdminMixin, LargeTableMixin, admin.ModelAdmin):
    """Every event for every subscription, with the log of its attempts; "Send again" redelivers it now."""

    list_display = ("id", "event_type", "webhook", "channel", *OUTBOX_LIST_DISPLAY)
    list_select_related = ("webhook", "channel")
    list_filter = ("status", "event_type", "channel")
    search_fields = ("=event_id",)
    search_help_text = "An event id (X-Omnitron-Event-Id), exactly."
    readonly_fields = ("webhook", "channel", "event_id", "event_type", "payload", *OUTBOX_READONLY)
    fields = readonly_fields
    inlines = [WebhookAttemptInline]

    @admin.display(description="body")
    def payload(self, delivery):
        return json.dumps(json.loads(delivery.body), indent=2)

    def get_search_results(self, request, queryset, search_term):
        try:
            event_id = uuid.UUID(search_term.strip())
        except ValueError:
            return (queryset.none() if search_term.strip() else queryset), False
        return queryset.filter(event_id=event_id), False

    def requeue_one(self, row_id: int):
        services.webhook_redeliver(delivery_id=row_id)


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(LargeTableMixin, admin.ModelAdmin):
    """The log of every delivery attempt (also shown on each delivery's page)."""

    list_display = ("id", "delivery", "number", "status_code", "duration_ms", "created_date")
    list_select_related = ("delivery",)
    ordering = ("-id",)
    sortable_by = ("id",)
    readonly_fields = ("delivery", *WebhookAttemptInline.fields)
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
