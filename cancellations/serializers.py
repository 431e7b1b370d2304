from rest_framework import serializers

from cancellations.models import (
    CancellationPlan,
    CancellationPlanItem,
    CancellationPlanType,
    CancellationReason,
    CancellationRequest,
    CancellationRequestStatus,
    CancellationType,
    EasyReturn,
)
from channels.conf import conf_without_secrets
from channels.models import Channel
from common.api.fast import FastReadMixin
from common.api.serializers import (
    BASE_MODEL_FIELDS,
    MAX_ID,
    IdRelatedField,
    JSONObjectField,
    PlainMoneyField,
    id_field,
)
from common.masking import mask_iban
from orders.models import Customer, Order, OrderItem, Product
from refunds.models import Refund, RefundKind, RefundMethod


class CancellationReasonSerializer(FastReadMixin, serializers.ModelSerializer):
    pk = serializers.IntegerField(read_only=True)
    translations = JSONObjectField(
        required=False, allow_null=True, help_text='Subject per language, e.g. {"tr": {"subject": "..."}}.'
    )

    class Meta:
        model = CancellationReason
        fields = (
            "id",
            "pk",
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
        read_only_fields = ("id", "pk", "uuid", "created_date", "modified_date")
        # The column's range on every database (SQLite would not check it).
        extra_kwargs = {"order": {"min_value": 0, "max_value": 2_147_483_647}}


class _ItemKeyedDictField(serializers.DictField):
    """`{"<order item id>": value}`: keys must be item ids; they come out as ints."""

    default_error_messages = {"bad_key": "Keys must be order item ids; {value!r} is not."}

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        result = {}
        for key, value in values.items():
            try:
                item_id = int(key)
            except (TypeError, ValueError):
                self.fail("bad_key", value=key)
            if not 1 <= item_id <= MAX_ID:
                self.fail("bad_key", value=key)
            result[item_id] = value
        return result


class OrderCancelInputSerializer(serializers.Serializer):
    order = id_field(required=False, help_text="If sent, must equal the order id of the path.")
    is_all = serializers.BooleanField(default=False, help_text="Cancel (or return) every item not yet cancelled.")
    cancel_items = serializers.ListField(
        child=id_field(),
        default=list,
        max_length=500,
        help_text="Order item ids; each is cancelled for all of its units not yet cancelled.",
    )
    reasons = _ItemKeyedDictField(child=id_field(), default=dict, help_text='{"<item id>": <reason id>}')
    forced_refund_amount = PlainMoneyField(
        help_text='Replaces the computed total of the items\' refund: a plain decimal ("10.50") or null.'
    )
    is_cargo_refund = serializers.BooleanField(default=False, help_text="Refund the shipping fee alone.")
    refund_invoice_number = serializers.CharField(max_length=128, allow_null=True, allow_blank=True, required=False)
    ibans = _ItemKeyedDictField(child=serializers.CharField(max_length=64, allow_blank=True), default=dict)
    holder_names = _ItemKeyedDictField(child=serializers.CharField(max_length=255, allow_blank=True), default=dict)
    return_details = serializers.BooleanField(
        default=True, help_text="false: answer only {order, cancellation_plan} ids."
    )
    quote_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Commit this quote (from cancel/quote/) with the same body."
    )

    def cancel_kwargs(self) -> dict:
        """The validated body as `order_cancel` takes it."""
        body = self.validated_data
        return {
            "item_ids": body["cancel_items"],
            "is_all": body["is_all"],
            "is_cargo_refund": body["is_cargo_refund"],
            "reasons": body["reasons"],
            "forced_refund_amount": body["forced_refund_amount"],
            "refund_invoice_number": body.get("refund_invoice_number"),
            "ibans": body["ibans"],
            "holder_names": body["holder_names"],
        }


class QuoteItemSerializer(serializers.Serializer):
    order_item = serializers.IntegerField()
    quantity = serializers.IntegerField()
    refund_amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class QuoteRefundSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RefundKind.choices)
    method = serializers.ChoiceField(choices=RefundMethod.choices)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class OrderCancelQuoteSerializer(serializers.Serializer):
    quote_id = serializers.UUIDField(source="pk")
    expires_at = serializers.DateTimeField()
    plan_type = serializers.ChoiceField(choices=CancellationPlanType.choices, source="quote.plan_type")
    items = QuoteItemSerializer(many=True, source="quote.items")
    refunds = QuoteRefundSerializer(many=True, source="quote.refunds")
    total = serializers.DecimalField(max_digits=14, decimal_places=2, source="quote.total")


class OrderCancelSummarySerializer(serializers.Serializer):
    order = serializers.IntegerField()
    cancellation_plan = serializers.IntegerField()


class CancellationPlanItemSerializer(FastReadMixin, serializers.ModelSerializer):
    class Meta:
        model = CancellationPlanItem
        fields = ("order_item", "quantity", "refund_amount")
        read_only_fields = fields


class RefundSerializer(FastReadMixin, serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ("id", "kind", "method", "amount", "status", "attempts", "last_error", "gateway_reference")
        read_only_fields = fields


class CancellationPlanSerializer(FastReadMixin, serializers.ModelSerializer):
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


class EasyReturnSerializer(FastReadMixin, serializers.ModelSerializer):
    class Meta:
        model = EasyReturn
        fields = (
            "id",
            "shipping_company",
            "code",
            "start_date",
            "end_date",
            "max_count",
            "status",
            "raw_request",
            "raw_response",
            "tracking_number",
            "tracking_url",
            "pickup_date",
            "created_date",
            "modified_date",
            "uuid",
        )
        read_only_fields = fields


class CancellationRequestSerializer(FastReadMixin, serializers.ModelSerializer):
    pk = serializers.IntegerField(read_only=True)
    iban = serializers.SerializerMethodField(help_text="Masked: the first 4 and last 4 characters.")
    easy_return = EasyReturnSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CancellationRequest
        fields = (
            "id",
            "pk",
            "order_item",
            "reason",
            "description",
            "cancellation_type",
            "status",
            "iban",
            "holder_name",
            "easy_return",
            "quantity",
            "fully_refund_as_loyalty_money",
            *BASE_MODEL_FIELDS,
        )
        read_only_fields = fields

    def get_iban(self, request) -> str | None:
        return mask_iban(request.iban)


class CancellationRequestInputSerializer(serializers.Serializer):
    """Create (POST), replace (PUT) and partially update (PATCH) a request. Querysets are narrowed to the
    channel by the view, so another channel's item is refused like an unknown one."""

    order_item = IdRelatedField(queryset=OrderItem.objects.all())
    reason = IdRelatedField(queryset=CancellationReason.objects.all())
    cancellation_type = serializers.ChoiceField(choices=CancellationType.choices)
    description = serializers.CharField(allow_null=True, allow_blank=True, required=False, max_length=2000)
    iban = serializers.CharField(allow_null=True, allow_blank=True, required=False, max_length=64)
    holder_name = serializers.CharField(allow_null=True, allow_blank=True, required=False, max_length=255)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000, allow_null=True, required=False)
    fully_refund_as_loyalty_money = serializers.BooleanField(required=False, default=False)
    status = serializers.ChoiceField(
        choices=CancellationRequestStatus.choices, required=False, help_text="Only the current status is accepted."
    )
    attributes = JSONObjectField(required=False)
    attributes_kwargs = JSONObjectField(required=False)
    localized_attributes = JSONObjectField(required=False)
    localized_attributes_kwargs = JSONObjectField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        if self.partial:
            fields["fully_refund_as_loyalty_money"].default = serializers.empty
        return fields


class CancellationRequestApproveInputSerializer(serializers.Serializer):
    forced_refund_amount = PlainMoneyField(help_text='A plain decimal ("10.50") or null.')


class _DetailedProductSerializer(FastReadMixin, serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ("id", "name", "base_code", "sku", "ean", "uuid", "attributes", "created_date", "modified_date")
        read_only_fields = fields


class _DetailedOrderSerializer(FastReadMixin, serializers.ModelSerializer):
    pk = serializers.IntegerField(read_only=True)

    class Meta:
        model = Order
        fields = (
            "pk",
            "number",
            "channel",
            "customer",
            "date_placed",
            "payment_option",
            "cancel_status",
            "status",
            "currency",
            "amount",
            "discount_amount",
            "shipping_amount",
            "refund_amount",
            "discount_refund_amount",
            "shipping_refund_amount",
            "created_date",
            "modified_date",
        )
        read_only_fields = fields


class _DetailedOrderItemSerializer(FastReadMixin, serializers.ModelSerializer):
    pk = serializers.IntegerField(read_only=True)
    order = _DetailedOrderSerializer(read_only=True)
    product = _DetailedProductSerializer(read_only=True)
    price_currency = serializers.CharField(source="order.currency", read_only=True)

    class Meta:
        model = OrderItem
        fields = (
            "pk",
            "order",
            "product",
            "status",
            "price_currency",
            "price",
            "tax_rate",
            "quantity",
            "cancel_status",
            "cancelled_quantity",
            "refund_amount",
            "created_date",
            "modified_date",
            "attributes",
            "attributes_kwargs",
            "localized_attributes",
            "localized_attributes_kwargs",
        )
        read_only_fields = fields


class _DetailedReasonSerializer(CancellationReasonSerializer):
    pk = serializers.IntegerField(read_only=True)

    class Meta(CancellationReasonSerializer.Meta):
        fields = ("pk", *(f for f in CancellationReasonSerializer.Meta.fields if f not in ("id", "pk")))
        read_only_fields = fields


class _DetailedChannelSerializer(FastReadMixin, serializers.ModelSerializer):
    conf = serializers.SerializerMethodField(help_text="The channel conf without credentials.")

    class Meta:
        model = Channel
        fields = ("id", "name", "channel_type", "conf", "is_active", "created_date", "modified_date")
        read_only_fields = fields

    def get_conf(self, channel) -> dict:
        return conf_without_secrets(channel.conf)


class _DetailedCustomerSerializer(FastReadMixin, serializers.ModelSerializer):
    pk = serializers.IntegerField(read_only=True)

    class Meta:
        model = Customer
        fields = (
            "pk",
            "email",
            "first_name",
            "last_name",
            "phone_number",
            "channel",
            "attributes",
            "attributes_kwargs",
            "localized_attributes",
            "localized_attributes_kwargs",
        )
        read_only_fields = fields


class CancellationRequestDetailedSerializer(CancellationRequestSerializer):
    """The request with what it points at nested, as reference 003's `detailed` responses show it."""

    order_item = _DetailedOrderItemSerializer(read_only=True)
    reason = _DetailedReasonSerializer(read_only=True)
    channel = _DetailedChannelSerializer(source="order_item.order.channel", read_only=True)
    customer = _DetailedCustomerSerializer(source="order_item.order.customer", read_only=True)

    class Meta(CancellationRequestSerializer.Meta):
        fields = (
            *CancellationRequestSerializer.Meta.fields[:12],
            "channel",
            "customer",
            *CancellationRequestSerializer.Meta.fields[12:],
        )
        read_only_fields = fields


class RefusalSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ItemEligibilitySerializer(serializers.Serializer):
    order_item = serializers.IntegerField()
    open_quantity = serializers.IntegerField(help_text="Units not yet cancelled.")
    cancellation_type = serializers.ChoiceField(
        choices=CancellationType.choices, allow_null=True, help_text="null: the item is final."
    )
    can_cancel = serializers.BooleanField(help_text="cancel/ accepts this item now (given a reason of its type).")
    iban_required = serializers.BooleanField(help_text="The refund goes by bank transfer: send ibans/holder_names.")
    refund_by_quantity = serializers.DictField(
        child=serializers.DecimalField(max_digits=14, decimal_places=2),
        help_text='What cancelling that many units gives back, e.g. {"1": "9.66", "2": "19.33"}.',
    )
    refusals = RefusalSerializer(many=True, help_text="What cancel/ would answer for this item, when it refuses.")


class OrderEligibilitySerializer(serializers.Serializer):
    order = serializers.IntegerField()
    cargo_refundable = serializers.BooleanField(help_text="The shipping fee can be refunded now (is_cargo_refund).")
    cargo_refusals = RefusalSerializer(many=True)
    items = ItemEligibilitySerializer(many=True)
