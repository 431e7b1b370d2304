from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Upper

from common.models import BaseModel, money_field


class OrderStatus(models.TextChoices):
    CANCELLATION_WAITING = "50", "Cancellation waiting"  # a cancellation is being decided
    CANCELLED = "100", "Cancelled"  # final: every unit cancelled before shipping
    WAITING = "200", "Waiting"  # placed, not yet processed
    PAYMENT_WAITING = "300", "Payment waiting"  # placed, payment not yet collected
    CONFIRMATION_WAITING = "350", "Confirmation waiting"  # paid, awaiting the merchant's confirmation
    APPROVED = "400", "Approved"  # confirmed, ready for fulfilment
    PREPARING = "450", "Preparing"  # being picked and packed
    SHIPPED = "500", "Shipped"  # handed to the carrier
    SHIPPED_AND_INFORMED = "510", "Shipped and informed"  # shipped, customer told
    READY_FOR_PICKUP = "520", "Ready for pickup"  # waiting at a pickup point
    ATTEMPTED_DELIVERY = "540", "Attempted delivery"  # the carrier could not deliver
    REVIEW_STARTED = "544", "Review started"  # a returned parcel is being inspected
    REVIEW_WAITING = "545", "Review waiting"  # a returned parcel awaits inspection
    WAITING_FOR_PAYMENT = "546", "Waiting for payment"  # pay on delivery: awaiting the carrier's collection
    PAID = "547", "Paid"  # pay on delivery: collected
    DELIVERED = "550", "Delivered"  # in the customer's hands
    REFUNDED = "600", "Refunded"  # final: returned and refunded

    @classmethod
    def rank(cls, value: str) -> int:
        return int(value)

    @classmethod
    def is_final(cls, value: str) -> bool:
        return value in (cls.CANCELLED, cls.REFUNDED)

    @classmethod
    def is_shipped(cls, value: str) -> bool:
        return int(cls.SHIPPED) <= int(value) <= int(cls.DELIVERED)


# Statuses an item can be handed over in or moved to through fulfilment (not through a cancellation).
FULFILMENT_STATUSES = [
    s
    for s in OrderStatus.values
    if s not in (OrderStatus.CANCELLATION_WAITING, OrderStatus.CANCELLED, OrderStatus.REFUNDED)
]


class CancelStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"  # a cancellation request awaits a decision
    APPROVED = "approved", "Approved"  # cancellation decided, refund in progress
    CONFIRMED = "confirmed", "Confirmed"  # refund done
    REJECTED = "rejected", "Rejected"  # the request was rejected; a new one may follow


# Most urgent first: the order's cancel_status is the first of these any of its items has.
CANCEL_STATUS_URGENCY = [
    CancelStatus.WAITING,
    CancelStatus.APPROVED,
    CancelStatus.REJECTED,
    CancelStatus.CONFIRMED,
]


class PaymentOption(models.TextChoices):
    CREDIT_CARD = "credit_card", "Credit card"  # refunded to the purchase transaction at the gateway
    FUNDS_TRANSFER = "funds_transfer", "Funds transfer"  # refunded by bank transfer to an IBAN
    PAY_ON_DELIVERY = (
        "pay_on_delivery",
        "Pay on delivery",
    )  # collected by the carrier; returns paid by transfer
    LOYALTY_MONEY = "loyalty_money", "Loyalty money"  # refunded to the customer's loyalty balance
    FINANCING = "financing", "Financing"  # consumer financing (deferred payment / pay in three)


class Customer(BaseModel):
    channel = models.ForeignKey("channels.Channel", on_delete=models.PROTECT, related_name="customers")
    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    phone_number = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["channel", "email"], name="customer_email_unique_per_channel")]
        indexes = [
            # Case-insensitive filters (iexact) compare UPPER(...): these indexes serve them.
            models.Index(Upper("email"), name="customer_email_upper_idx"),
            models.Index(Upper("first_name"), name="customer_first_name_upper_idx"),
            models.Index(Upper("last_name"), name="customer_last_name_upper_idx"),
        ]

    def __str__(self):
        return self.email


class Product(BaseModel):
    sku = models.CharField(max_length=128, unique=True)
    name = models.CharField(max_length=255)
    ean = models.CharField(max_length=64, null=True, blank=True)
    base_code = models.CharField(max_length=128, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(Upper("sku"), name="product_sku_upper_idx")]

    def __str__(self):
        return f"{self.sku} {self.name}"


class Order(BaseModel):
    # Indexed by order_channel_date_idx (channel, -date_placed), which also serves channel-only lookups.
    channel = models.ForeignKey("channels.Channel", on_delete=models.PROTECT, related_name="orders", db_index=False)
    number = models.CharField(max_length=128)
    remote_id = models.CharField(max_length=128, null=True, blank=True)
    # Indexed by order_customer_channel_idx (customer, channel, id), which also serves customer-only lookups.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders", db_index=False)
    date_placed = models.DateTimeField()
    status = models.CharField(max_length=3, choices=OrderStatus.choices, default=OrderStatus.APPROVED)
    cancel_status = models.CharField(max_length=16, choices=CancelStatus.choices, null=True, blank=True)
    currency = models.CharField(max_length=3)
    amount = money_field(help_text="What the customer paid, shipping included.")
    discount_amount = money_field(help_text="Order-level discount, shared over the items at intake.")
    shipping_amount = money_field()
    refund_amount = money_field(help_text="Everything refunded so far, shipping included.")
    discount_refund_amount = money_field(help_text="The part of the discount given back with refunded items.")
    shipping_refund_amount = money_field()
    payment_option = models.CharField(max_length=32, choices=PaymentOption.choices)
    payment_reference = models.CharField(max_length=128, null=True, blank=True)
    financing_application_id = models.CharField(max_length=128, null=True, blank=True)
    extra_field = models.JSONField(default=dict, blank=True, help_text="The channel's own data, kept as sent.")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "number"], name="order_number_unique_per_channel"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="order_amount_not_negative"),
            models.CheckConstraint(condition=Q(discount_amount__gte=0), name="order_discount_not_negative"),
            models.CheckConstraint(condition=Q(shipping_amount__gte=0), name="order_shipping_not_negative"),
            models.CheckConstraint(
                condition=Q(refund_amount__gte=0) & Q(refund_amount__lte=F("amount")),
                name="order_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(shipping_refund_amount__gte=0) & Q(shipping_refund_amount__lte=F("shipping_amount")),
                name="order_shipping_refund_within_shipping",
            ),
            models.CheckConstraint(
                condition=Q(discount_refund_amount__gte=0) & Q(discount_refund_amount__lte=F("discount_amount")),
                name="order_discount_refund_within_discount",
            ),
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="order_status_known"),
            models.CheckConstraint(
                condition=Q(payment_option__in=PaymentOption.values), name="order_payment_option_known"
            ),
            # ISO 4217, stored in lowercase as Omnitron returns it ("try"); the API normalises any case.
            models.CheckConstraint(condition=Q(currency=Lower("currency")), name="order_currency_lowercase"),
        ]
        indexes = [
            models.Index(fields=["number"], name="order_number_idx"),
            models.Index(Upper("number"), name="order_number_upper_idx"),
            models.Index(fields=["status"], name="order_status_idx"),
            models.Index(fields=["cancel_status"], name="order_cancel_status_idx"),
            models.Index(fields=["date_placed"], name="order_date_placed_idx"),
            models.Index(fields=["channel", "-date_placed"], name="order_channel_date_idx"),
            # A customer's orders in a channel, ids included: the request lists' customer name filters go from
            # the customers with the name to their orders in the list's channel without reading an order row.
            models.Index(fields=["customer", "channel", "id"], name="order_customer_channel_idx"),
        ]

    def __str__(self):
        return self.number


class OrderItem(BaseModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_items")
    quantity = models.PositiveIntegerField()
    price = money_field(help_text="Unit price paid.")
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    status = models.CharField(max_length=3, choices=OrderStatus.choices, default=OrderStatus.APPROVED)
    cancel_status = models.CharField(max_length=16, choices=CancelStatus.choices, null=True, blank=True)
    cancelled_quantity = models.PositiveIntegerField(default=0)
    discount_amount = money_field(help_text="This item's share of the order discount, fixed at intake.")
    amount = money_field(help_text="What the customer paid for the line: price x quantity less its discount share.")
    refund_amount = money_field()
    extra_field = models.JSONField(default=dict, blank=True, help_text="The channel's own data, kept as sent.")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="item_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="item_price_not_negative"),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=100), name="item_tax_rate_percentage"
            ),
            models.CheckConstraint(
                condition=Q(cancelled_quantity__gte=0) & Q(cancelled_quantity__lte=F("quantity")),
                name="item_cancelled_within_quantity",
            ),
            models.CheckConstraint(
                condition=Q(discount_amount__gte=0) & Q(amount__gte=0), name="item_discount_within_value"
            ),
            # amount == price * quantity - discount_amount. The half-cent tolerance changes nothing for values in
            # cents, and keeps SQLite (which multiplies decimals as floats) from refusing exact values.
            models.CheckConstraint(
                condition=Q(amount__gte=F("price") * F("quantity") - F("discount_amount") - Decimal("0.005"))
                & Q(amount__lte=F("price") * F("quantity") - F("discount_amount") + Decimal("0.005")),
                name="item_amount_is_value_less_discount",
            ),
            models.CheckConstraint(
                condition=Q(refund_amount__gte=0) & Q(refund_amount__lte=F("amount")),
                name="item_refund_within_amount",
            ),
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="item_status_known"),
        ]
        indexes = [
            models.Index(fields=["status"], name="item_status_idx"),
            models.Index(fields=["cancel_status"], name="item_cancel_status_idx"),
        ]

    def __str__(self):
        # Read with its order and product (select_related) wherever items are listed.
        return f"{self.order.number}: {self.quantity} x {self.product.sku}"

    @property
    def value(self):
        """What the customer paid for this line before the order discount."""
        return self.price * self.quantity

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.cancelled_quantity


class OrderEventType(models.TextChoices):
    ORDER_CREATED = "order_created", "Order created"  # a channel handed the order over
    ITEM_STATUS_CHANGED = "item_status_changed", "Item status changed"  # fulfilment moved an item forward
    ORDER_STATUS_CHANGED = "order_status_changed", "Order status changed"  # the order's own status followed
    CANCELLATION_PLANNED = (
        "cancellation_planned",
        "Cancellation planned",
    )  # a plan was made and refunds queued
    CANCELLATION_COMPLETED = (
        "cancellation_completed",
        "Cancellation completed",
    )  # all of a plan's refunds done
    CANCELLATION_FAILED = "cancellation_failed", "Cancellation failed"  # a refund of a plan failed for good
    CANCELLATION_RETRIED = "cancellation_retried", "Cancellation retried"  # failed refunds queued again
    REQUEST_CREATED = "request_created", "Cancellation request created"  # a channel asked to cancel/return
    REQUEST_UPDATED = "request_updated", "Cancellation request updated"  # the channel changed its request
    REQUEST_DELETED = "request_deleted", "Cancellation request deleted"  # the channel withdrew its request
    REQUEST_REJECTED = "request_rejected", "Cancellation request rejected"  # the request was refused
    REQUEST_APPROVED = "request_approved", "Cancellation request approved"  # the request became a plan
    REQUEST_COMPLETED = "request_completed", "Cancellation request completed"  # the request's plan completed
    REFUND_SUCCEEDED = "refund_succeeded", "Refund succeeded"  # money reached the customer
    REFUND_FAILED = "refund_failed", "Refund failed"  # a refund failed for good
    BANK_TRANSFER_EXPORTED = "bank_transfer_exported", "Bank transfer exported"  # in a file handed to the bank
    STOREFRONT_SYNC_ATTEMPTED = (
        "storefront_sync_attempted",
        "Storefront sync attempted",
    )  # the storefront was called to cancel the order (the payload says how it answered)


class OrderEvent(models.Model):
    """The audit trail of an order: who did what, when, with what."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=64, choices=OrderEventType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField(default=dict, blank=True)
    created_date = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["order", "created_date"], name="event_order_time_idx"),
            models.Index(fields=["type"], name="event_type_idx"),
        ]

    def __str__(self):
        return f"{self.order_id} {self.type}"
