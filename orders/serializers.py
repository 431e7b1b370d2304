import re

from rest_framework import serializers

from omnitron.models import MONEY
from orders.models import FULFILMENT_STATUSES, Customer, Order, OrderItem, OrderStatus, PaymentOption, Product

CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ("id", "email", "first_name", "last_name", "phone_number")


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ("id", "sku", "name", "ean")


class OrderItemSerializer(serializers.ModelSerializer):
    product = ProductSerializer(read_only=True)

    class Meta:
        model = OrderItem
        fields = (
            "id",
            "product",
            "quantity",
            "price",
            "tax_rate",
            "status",
            "cancel_status",
            "cancelled_quantity",
            "refund_amount",
        )
        read_only_fields = fields


class OrderDetailSerializer(serializers.ModelSerializer):
    customer = CustomerSerializer(read_only=True)
    items = OrderItemSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = (
            "id",
            "number",
            "remote_id",
            "channel",
            "customer",
            "date_placed",
            "status",
            "cancel_status",
            "currency",
            "amount",
            "discount_amount",
            "shipping_amount",
            "refund_amount",
            "discount_refund_amount",
            "shipping_refund_amount",
            "payment_option",
            "items",
            "created_date",
            "modified_date",
        )
        read_only_fields = fields


class CustomerInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    phone_number = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class ProductInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=128)
    name = serializers.CharField(max_length=255)
    ean = serializers.CharField(max_length=64, required=False, allow_null=True, allow_blank=True)
    base_code = serializers.CharField(max_length=128, required=False, allow_null=True, allow_blank=True)


class OrderItemInputSerializer(serializers.Serializer):
    product = ProductInputSerializer()
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    price = serializers.DecimalField(**MONEY, min_value=0, help_text="Unit price paid.")
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)
    status = serializers.ChoiceField(
        choices=[(s, OrderStatus(s).label) for s in FULFILMENT_STATUSES],
        required=False,
        help_text='Defaults to "400" (approved).',
    )


class OrderCreateInputSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=128)
    date_placed = serializers.DateTimeField()
    currency = serializers.CharField(max_length=3, help_text="ISO 4217 code, e.g. TRY or EUR.")
    amount = serializers.DecimalField(**MONEY, min_value=0, help_text="What the customer paid, shipping included.")
    shipping_amount = serializers.DecimalField(**MONEY, min_value=0, default=0)
    discount_amount = serializers.DecimalField(**MONEY, min_value=0, default=0)
    payment_option = serializers.ChoiceField(choices=PaymentOption.choices)
    payment_reference = serializers.CharField(max_length=128, required=False, allow_null=True, allow_blank=True)
    financing_application_id = serializers.CharField(max_length=128, required=False, allow_null=True, allow_blank=True)
    remote_id = serializers.CharField(max_length=128, required=False, allow_null=True, allow_blank=True)
    customer = CustomerInputSerializer()
    items = OrderItemInputSerializer(many=True, allow_empty=False, max_length=500)

    def validate_currency(self, value):
        if not CURRENCY_RE.match(value):
            raise serializers.ValidationError("A three-letter ISO 4217 code in capitals is required, e.g. EUR.")
        return value

    def validate(self, attrs):
        errors = {}
        if attrs["payment_option"] == PaymentOption.CREDIT_CARD and not attrs.get("payment_reference"):
            errors["payment_reference"] = ["Required for credit_card: the purchase transaction's id at the gateway."]
        if attrs["payment_option"] == PaymentOption.FINANCING and not attrs.get("financing_application_id"):
            errors["financing_application_id"] = ["Required for financing: the provider's application id."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class OrderItemStatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
