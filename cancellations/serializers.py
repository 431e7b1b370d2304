from rest_framework import serializers

from cancellations.models import CancellationReason


class CancellationReasonSerializer(serializers.ModelSerializer):
    translations = serializers.JSONField(
        required=False, allow_null=True, help_text='Subject per language, e.g. {"tr": {"subject": "..."}}.'
    )

    class Meta:
        model = CancellationReason
        fields = (
            "id",
            "cancellation_type",
            "subject",
            "extra_information_needed",
            "order",
            "is_active",
            "send_to_remote",
            "translations",
            "uuid",
            "created_date",
            "modified_date",
        )
        read_only_fields = ("id", "uuid", "created_date", "modified_date")

    def validate_translations(self, value):
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError("A JSON object keyed by language code is required.")
        return value
