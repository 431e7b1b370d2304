from rest_framework import serializers

from cancellations.models import CancellationPlan, CancellationPlanItem, CancellationReason
from refunds.models import Refund


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


class _ItemKeyedDictField(serializers.DictField):
    """`{"<order item id>": value}`: keys must be item ids; they come out as ints."""

    default_error_messages = {"bad_key": "Keys must be order item ids; {value!r} is not."}

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        result = {}
        for key, value in values.items():
            try:
                result[int(key)] = value
            except (TypeError, ValueError):
                self.fail("bad_key", value=key)
        return result


class OrderCancelInputSerializer(serializers.Serializer):
    order = serializers.IntegerField(required=False, help_text="If sent, must equal the order id of the path.")
    is_all = serializers.BooleanField(default=False, help_text="Cancel (or return) every item not yet cancelled.")
    cancel_items = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        default=list,
        max_length=500,
        help_text="Order item ids; each is cancelled for all of its units not yet cancelled.",
    )
    reasons = _ItemKeyedDictField(
        child=serializers.IntegerField(min_value=1), default=dict, help_text='{"<item id>": <reason id>}'
    )
    forced_refund_amount = serializers.CharField(
        allow_null=True,
        required=False,
        default=None,
        max_length=32,
        help_text="Replaces the computed total of the items' refund; a decimal string or null.",
    )
    is_cargo_refund = serializers.BooleanField(default=False, help_text="Refund the shipping fee alone.")
    refund_invoice_number = serializers.CharField(max_length=128, allow_null=True, allow_blank=True, required=False)
    ibans = _ItemKeyedDictField(child=serializers.CharField(max_length=64, allow_blank=True), default=dict)
    holder_names = _ItemKeyedDictField(child=serializers.CharField(max_length=255, allow_blank=True), default=dict)
    return_details = serializers.BooleanField(
        default=True, help_text="false: answer only {order, cancellation_plan} ids."
    )


class OrderCancelSummarySerializer(serializers.Serializer):
    order = serializers.IntegerField()
    cancellation_plan = serializers.IntegerField()


class CancellationPlanItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = CancellationPlanItem
        fields = ("order_item", "quantity", "refund_amount")
        read_only_fields = fields


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ("id", "kind", "method", "amount", "status", "attempts", "last_error", "gateway_reference")
        read_only_fields = fields


class CancellationPlanSerializer(serializers.ModelSerializer):
    items = CancellationPlanItemSerializer(many=True, read_only=True)
    refunds = RefundSerializer(many=True, read_only=True)

    class Meta:
        model = CancellationPlan
        fields = (
            "id",
            "order",
            "plan_type",
            "status",
            "refund_invoice_number",
            "forced_refund_amount",
            "is_cargo_refund",
            "items",
            "refunds",
            "created_date",
            "modified_date",
        )
        read_only_fields = fields
