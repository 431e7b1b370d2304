import pycountry
from rest_framework import serializers

from common.api.fast import FastReadMixin
from common.api.serializers import JSONObjectField, PlainDecimalField
from common.models import MONEY
from orders.models import FULFILMENT_STATUSES, Customer, Order, OrderItem, OrderStatus, PaymentOption, Product
from orders.services import CustomerData, OrderIntake, OrderLine, ProductData


def currency_normalize(value: str) -> str:
    """An ISO 4217 code in any case -> lowercase, as Omnitron stores and returns it ("try"); anything else is
    refused."""
    code = value.strip()
    if (
        len(code) != 3
        or not code.isascii()
        or not code.isalpha()
        or pycountry.currencies.get(alpha_3=code.upper()) is None
    ):
        raise serializers.ValidationError(f"{value!r} is not an ISO 4217 currency code (e.g. try, eur, usd).")
    return code.lower()


class CustomerSerializer(FastReadMixin, serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ("id", "email", "first_name", "last_name", "phone_number")


class ProductSerializer(FastReadMixin, serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ("id", "sku", "name", "ean")


class OrderItemSerializer(FastReadMixin, serializers.ModelSerializer):
    pk = serializers.IntegerField(read_only=True)
    product = ProductSerializer(read_only=True)

    class Meta:
        model = OrderItem
        fields = (
            "id",
            "pk",
            "product",
            "quantity",
            "price",
            "tax_rate",
            "status",
            "cancel_status",
            "cancelled_quantity",
            "refund_amount",
            "extra_field",
            "modified_date",
        )
        read_only_fields = fields


class OrderDetailSerializer(FastReadMixin, serializers.ModelSerializer):
    pk = serializers.IntegerField(read_only=True)
    customer = CustomerSerializer(read_only=True)
    items = OrderItemSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = (
            "id",
            "pk",
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
            "extra_field",
            "items",
            "created_date",
            "modified_date",
        )
        read_only_fields = fields


def _remote_id_from_extra_field(attrs: dict) -> dict:
    """channel-app keeps the channel's own id of an order or a line in `extra_field["id"]`: it stands in for a
    missing `remote_id`."""
    fallback = attrs["extra_field"].get("id")
    if not attrs.get("remote_id") and fallback not in (None, ""):
        attrs["remote_id"] = str(fallback)[:128]
    return attrs


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
    price = PlainDecimalField(**MONEY, min_value=0, help_text="Unit price paid.")
    tax_rate = PlainDecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)
    status = serializers.ChoiceField(
        choices=[(s, OrderStatus(s).label) for s in FULFILMENT_STATUSES],
        required=False,
        help_text='Defaults to "400" (approved).',
    )
    remote_id = serializers.CharField(
        max_length=128, required=False, allow_null=True, allow_blank=True, help_text="The line's id in the channel."
    )
    extra_field = JSONObjectField(required=False, default=dict)

    def validate(self, attrs):
        return _remote_id_from_extra_field(attrs)


class OrderCreateInputSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=128)
    date_placed = serializers.DateTimeField()
    currency = serializers.CharField(
        max_length=8, help_text='ISO 4217 code in any case, e.g. "try" or "EUR"; stored and returned in lowercase.'
    )
    amount = PlainDecimalField(**MONEY, min_value=0, help_text="What the customer paid, shipping included.")
    shipping_amount = PlainDecimalField(**MONEY, min_value=0, default=0)
    discount_amount = PlainDecimalField(**MONEY, min_value=0, default=0)
    payment_option = serializers.ChoiceField(choices=PaymentOption.choices)
    payment_reference = serializers.CharField(max_length=128, required=False, allow_null=True, allow_blank=True)
    financing_application_id = serializers.CharField(max_length=128, required=False, allow_null=True, allow_blank=True)
    remote_id = serializers.CharField(max_length=128, required=False, allow_null=True, allow_blank=True)
    extra_field = JSONObjectField(required=False, default=dict)
    customer = CustomerInputSerializer()
    items = OrderItemInputSerializer(many=True, allow_empty=False, max_length=500)

    def validate_currency(self, value):
        return currency_normalize(value)

    def validate(self, attrs):
        attrs = _remote_id_from_extra_field(attrs)
        errors = {}
        if attrs["payment_option"] == PaymentOption.CREDIT_CARD and not attrs.get("payment_reference"):
            errors["payment_reference"] = ["Required for credit_card: the purchase transaction's id at the gateway."]
        if attrs["payment_option"] == PaymentOption.FINANCING and not attrs.get("financing_application_id"):
            errors["financing_application_id"] = ["Required for financing: the provider's application id."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def order_intake(data: dict) -> OrderIntake:
    """The validated body of OrderCreateInputSerializer as the service takes it."""
    return OrderIntake(
        **{name: data[name] for name in ORDER_INTAKE_FIELDS if name in data},
        customer=CustomerData(**data["customer"]),
        lines=[OrderLine(**{**line, "product": ProductData(**line["product"])}) for line in data["items"]],
    )


ORDER_INTAKE_FIELDS = (
    "number",
    "date_placed",
    "currency",
    "amount",
    "payment_option",
    "shipping_amount",
    "discount_amount",
    "payment_reference",
    "financing_application_id",
    "remote_id",
    "extra_field",
)


class OrderItemStatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
