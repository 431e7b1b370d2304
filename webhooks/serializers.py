import json

from rest_framework import serializers

from channels.models import Channel
from common.api.serializers import IdRelatedField
from webhooks.models import Webhook, WebhookAttempt, WebhookDelivery, WebhookEventType


class WebhookSerializer(serializers.ModelSerializer):
    """A subscription as the API shows it and takes it; `secret` is write-only (required on create)."""

    channel = IdRelatedField(queryset=Channel.objects.all())
    url = serializers.URLField(max_length=500, help_text="http(s); private addresses are refused in production.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEventType.choices), min_length=1, max_length=20
    )
    secret = serializers.CharField(
        write_only=True, min_length=16, max_length=255, help_text="Keys the HMAC-SHA256 signature; never shown."
    )

    class Meta:
        model = Webhook
        fields = ("id", "channel", "url", "events", "secret", "is_active", "created_date", "modified_date")
        read_only_fields = ("id", "created_date", "modified_date")


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ("number", "status_code", "duration_ms", "response_excerpt", "error", "created_date")
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    payload = serializers.SerializerMethodField(help_text="The body POSTed to the receiver.")
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "webhook",
            "channel",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "last_error",
            "response_status",
            "next_attempt_at",
            "retry_until",
            "payload",
            "attempt_log",
            "created_date",
            "modified_date",
        )
        read_only_fields = fields

    def get_payload(self, delivery) -> dict:
        return json.loads(delivery.body)
