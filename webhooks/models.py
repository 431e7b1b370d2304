from django.db import models
from django.db.models import Q

from common.models import BaseModel
from common.outbox import OutboxRow, OutboxStatus


class WebhookEventType(models.TextChoices):
    REQUEST_CREATED = "cancellation_request.created", "Cancellation request created"  # a channel asked
    REQUEST_APPROVED = "cancellation_request.approved", "Cancellation request approved"  # it became a plan
    REQUEST_REJECTED = "cancellation_request.rejected", "Cancellation request rejected"  # it was refused
    REQUEST_COMPLETED = "cancellation_request.completed", "Cancellation request completed"  # its plan completed
    PLAN_CREATED = "cancellation_plan.created", "Cancellation plan created"  # items cancelled, refunds queued
    PLAN_COMPLETED = "cancellation_plan.completed", "Cancellation plan completed"  # all its refunds succeeded
    PLAN_FAILED = "cancellation_plan.failed", "Cancellation plan failed"  # a refund of it failed for good
    REFUND_SUCCEEDED = "refund.succeeded", "Refund succeeded"  # money reached the customer
    REFUND_FAILED = "refund.failed", "Refund failed"  # a refund failed for good
    ORDER_CANCELLED = "order.cancelled", "Order cancelled"  # every item of the order is cancelled ("100")


class Webhook(BaseModel):
    """A subscription of a receiver to some events of one channel. `secret` signs every delivery; it is write-only."""

    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=255)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"Webhook {self.pk}: {self.url}"


class WebhookDelivery(OutboxRow):
    """One event for one subscription: the exact body to POST (the same bytes on every attempt, so the event id and
    its signature input never change), written in the transaction of the change it reports. Retried with backoff
    until `retry_until` (24 h). Ops dashboards count failing deliveries by `status` (indexed)."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    # The webhook's channel, copied at creation, so a channel's deliveries are listed from this table alone.
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+", db_index=False)
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=64, choices=WebhookEventType.choices)
    body = models.TextField()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OutboxStatus.values), name="webhook_delivery_status_known"),
            models.UniqueConstraint(fields=["webhook", "event_id"], name="one_delivery_per_webhook_and_event"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
            models.Index(fields=["status", "leased_until"], name="webhook_delivery_lease_idx"),
            models.Index(fields=["event_type"], name="webhook_delivery_type_idx"),
            # A receiver reports the X-Omnitron-Event-Id it got: ops look the event up by it.
            models.Index(fields=["event_id"], name="webhook_delivery_event_idx"),
            models.Index(fields=["channel", "-id"], name="webhook_delivery_channel_idx"),
        ]

    def __str__(self):
        return f"{self.event_type} {self.event_id} -> webhook {self.webhook_id} ({self.status})"


class WebhookAttempt(models.Model):
    """The log of one delivery attempt: what the receiver answered, and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_date = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"attempt {self.number} of delivery {self.delivery_id}: {self.status_code or self.error[:40]}"
