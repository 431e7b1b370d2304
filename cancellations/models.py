import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from common.models import BaseModel, money_field


class CancellationType(models.TextChoices):
    CANCEL = "cancel", "Cancel"  # the item has not shipped: it is cancelled
    REFUND = "refund", "Refund"  # the item has shipped: it is returned and refunded


class CancellationReason(BaseModel):
    cancellation_type = models.CharField(max_length=16, choices=CancellationType.choices)
    subject = models.CharField(max_length=100)
    extra_information_needed = models.BooleanField(default=False)
    order = models.PositiveIntegerField(default=100, help_text="Display order: lower first.")
    is_active = models.BooleanField(default=True)
    send_to_remote = models.BooleanField(default=False)
    translations = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cancellation_type__in=CancellationType.values), name="reason_type_known"
            ),
        ]
        indexes = [models.Index(fields=["is_active", "cancellation_type"], name="reason_active_type_idx")]

    def __str__(self):
        return f"{self.subject} ({self.cancellation_type})"


class EasyReturnStatus(models.TextChoices):
    ACTIVE = "active", "Active"  # the code can be handed to the carrier
    USED = "used", "Used"  # the parcel was handed over
    EXPIRED = "expired", "Expired"  # the validity window passed unused


class EasyReturn(BaseModel):
    """A prepaid return shipment code handed to the customer for a return request."""

    shipping_company = models.CharField(max_length=64)
    code = models.CharField(max_length=64, unique=True)
    start_date = models.DateTimeField()
    end_date = models.DateTimeField()
    max_count = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=EasyReturnStatus.choices, default=EasyReturnStatus.ACTIVE)
    raw_request = models.TextField(blank=True)
    raw_response = models.TextField(blank=True)
    tracking_number = models.CharField(max_length=128, null=True, blank=True)
    tracking_url = models.URLField(max_length=512, null=True, blank=True)
    pickup_date = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="easy_return_window"),
            models.CheckConstraint(condition=Q(max_count__gte=1), name="easy_return_max_count_positive"),
        ]
        indexes = [
            models.Index(Upper("code"), name="easy_return_code_upper_idx"),
            models.Index(Upper("tracking_number"), name="easy_return_tracking_upper_idx"),
        ]

    def __str__(self):
        return self.code


class CancellationPlanType(models.TextChoices):
    CANCEL = "cancel", "Cancel"  # unshipped items cancelled
    REFUND = "refund", "Refund"  # shipped items returned


class CancellationPlanStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"  # refunds queued or running
    COMPLETED = "completed", "Completed"  # every refund succeeded
    FAILED = "failed", "Failed"  # a refund failed for good; a retry puts the plan back to waiting


class CancellationPlan(BaseModel):
    """One decision to cancel or return items of an order, and the money movements it causes."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="cancellation_plans")
    # The order's channel, copied at creation: channel lists filter and sort on this table alone.
    channel = models.ForeignKey("channels.Channel", on_delete=models.PROTECT, related_name="+", db_index=False)
    plan_type = models.CharField(max_length=16, choices=CancellationPlanType.choices)
    status = models.CharField(
        max_length=16, choices=CancellationPlanStatus.choices, default=CancellationPlanStatus.WAITING
    )
    refund_invoice_number = models.CharField(max_length=128, null=True, blank=True)
    forced_refund_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    is_cargo_refund = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(plan_type__in=CancellationPlanType.values), name="plan_type_known"),
            models.CheckConstraint(condition=Q(status__in=CancellationPlanStatus.values), name="plan_status_known"),
            models.CheckConstraint(
                condition=Q(forced_refund_amount__isnull=True) | Q(forced_refund_amount__gte=0),
                name="plan_forced_amount_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "-id"], name="plan_channel_id_idx"),
            models.Index(fields=["channel", "status", "-id"], name="plan_channel_status_idx"),
            models.Index(fields=["status"], name="plan_status_idx"),
            models.Index(fields=["plan_type"], name="plan_type_idx"),
            models.Index(fields=["refund_invoice_number"], name="plan_invoice_idx"),
        ]

    def __str__(self):
        return f"Plan {self.pk} ({self.plan_type}, {self.status})"


class CancellationPlanItem(models.Model):
    plan = models.ForeignKey(CancellationPlan, on_delete=models.CASCADE, related_name="items")
    order_item = models.ForeignKey("orders.OrderItem", on_delete=models.PROTECT, related_name="plan_items")
    reason = models.ForeignKey(CancellationReason, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    quantity = models.PositiveIntegerField()
    refund_amount = money_field()
    discount_refund_amount = money_field(help_text="The order discount that lay on the cancelled units.")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "order_item"], name="plan_item_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="plan_item_quantity_positive"),
            models.CheckConstraint(condition=Q(refund_amount__gte=0), name="plan_item_refund_not_negative"),
        ]

    def __str__(self):
        # Read with its order item's order and product (select_related) wherever plan items are listed.
        item = self.order_item
        return f"Plan {self.plan_id}: {self.quantity} x {item.product.sku} of {item.order.number}"


class CancellationRequestStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"  # awaits a back-office decision
    APPROVED = "approved", "Approved"  # became a cancellation plan
    REJECTED = "rejected", "Rejected"  # refused; a new request may follow
    COMPLETED = "completed", "Completed"  # the plan's refunds succeeded


class CancellationRequest(BaseModel):
    """A sales channel asking the back office to cancel or return an order item."""

    order_item = models.ForeignKey("orders.OrderItem", on_delete=models.PROTECT, related_name="cancellation_requests")
    # The item's order's channel, copied at creation (a request never moves to another channel): the channel's
    # lists filter, count and sort on this table alone.
    channel = models.ForeignKey("channels.Channel", on_delete=models.PROTECT, related_name="+", db_index=False)
    # The order's date_placed, copied at creation (an order's placing date never changes): the date filters of the
    # channel's lists are served by (channel, date_placed) on this table, not two joins away.
    date_placed = models.DateTimeField()
    # The order's customer, copied at creation (an order's customer never changes): the customer filters of the
    # channel's lists go from the customers to (channel, customer, id) on this table, not through orders and items.
    customer = models.ForeignKey("orders.Customer", on_delete=models.PROTECT, related_name="+", db_index=False)
    reason = models.ForeignKey(CancellationReason, on_delete=models.PROTECT, related_name="requests")
    description = models.TextField(null=True, blank=True)
    cancellation_type = models.CharField(max_length=16, choices=CancellationType.choices)
    status = models.CharField(
        max_length=16, choices=CancellationRequestStatus.choices, default=CancellationRequestStatus.WAITING
    )
    iban = models.CharField(max_length=34, null=True, blank=True)
    holder_name = models.CharField(max_length=255, null=True, blank=True)
    easy_return = models.OneToOneField(
        EasyReturn, on_delete=models.SET_NULL, null=True, blank=True, related_name="cancellation_request"
    )
    quantity = models.PositiveIntegerField()
    fully_refund_as_loyalty_money = models.BooleanField(default=False)
    cancellation_plan = models.ForeignKey(
        CancellationPlan, on_delete=models.SET_NULL, null=True, blank=True, related_name="requests"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order_item"],
                condition=Q(status="waiting"),
                name="one_waiting_request_per_item",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="request_quantity_positive"),
            models.CheckConstraint(
                condition=Q(status__in=CancellationRequestStatus.values), name="request_status_known"
            ),
            models.CheckConstraint(
                condition=Q(cancellation_type__in=CancellationType.values), name="request_type_known"
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "-id"], name="request_channel_id_idx"),
            models.Index(fields=["channel", "status", "-id"], name="request_channel_status_idx"),
            models.Index(fields=["channel", "date_placed"], name="request_channel_placed_idx"),
            models.Index(fields=["channel", "customer", "-id"], name="request_channel_customer_idx"),
            models.Index(fields=["status"], name="request_status_idx"),
            models.Index(fields=["cancellation_type"], name="request_type_idx"),
        ]

    def __str__(self):
        return f"Request {self.pk} ({self.cancellation_type}, {self.status})"


class RequestIdCeiling(models.Model):
    """An id no cancellation request of the channel placed on `day` (UTC) exceeds, so a list bounded above by
    date_placed starts its newest-first scan there rather than at the channel's newest request.

    Written by database triggers on every insert into the request table, whatever makes the row (a service,
    bulk_create, SQL), and on a change of a request's channel or date_placed: no code path can forget it. The
    insert trigger rounds the id up to the end of its block of 1024 ids, so only the first request of a block takes
    the row's lock; the bound is looser by less than a block. A deleted request leaves the bound as it was, still
    an upper bound. See migrations 0005 and 0006."""

    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    id_ceiling = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "day"], name="request_ceiling_channel_day")]

    def __str__(self):
        return f"Requests of channel {self.channel_id} placed on {self.day}: ids up to {self.id_ceiling}"


class CancellationQuote(models.Model):
    """A priced cancellation that was not made: what `cancel/` would do for this body on the order as it stood.

    Committing it (`cancel/` with `quote_id`) makes exactly that plan, or nothing if the order changed meanwhile.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="cancellation_quotes")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the cancel body the quote was made for.")
    order_version = models.DateTimeField(help_text="The order's modified_date when it was priced.")
    quote = models.JSONField(help_text="The plan as the quote answered it.")
    expires_at = models.DateTimeField()
    plan = models.OneToOneField(
        CancellationPlan, on_delete=models.SET_NULL, null=True, blank=True, related_name="quote"
    )
    created_date = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_date"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_date")), name="quote_expires_later"),
        ]

    def __str__(self):
        return f"Quote {self.pk} for order {self.order_id}"
