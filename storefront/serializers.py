from rest_framework import serializers

from storefront.models import StorefrontSync


class StorefrontSyncSerializer(serializers.ModelSerializer):
    class Meta:
        model = StorefrontSync
        fields = (
            "id",
            "order",
            "channel",
            "status",
            "attempts",
            "last_error",
            "response_status",
            "next_attempt_at",
            "created_date",
            "modified_date",
        )
        read_only_fields = fields
