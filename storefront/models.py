from django.db import models
from django.db.models import Q

from common.outbox import OutboxRow, OutboxStatus


class StorefrontSync(OutboxRow):
    """One cancellation of an order told (or, `skipped`, not told) to the storefront the order came from. Written in
    the cancellation's transaction; a worker makes the call (see `common.outbox`). The store's API cancels whole
    orders only, so a partial cancel, a return or an order without `remote_id` is written `skipped`, with the
    reason in `last_error`. Ops dashboards count failing syncs by `status` (indexed)."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="storefront_syncs")
    # The order's channel, copied at creation, for lists and filters on this table alone.
    channel = models.ForeignKey("channels.Channel", on_delete=models.PROTECT, related_name="+", db_index=False)
    # The cancellation plan that made it (a plain id: plans belong to an app above this one).
    plan_id = models.PositiveBigIntegerField(null=True, blank=True)
    remote_id = models.CharField(max_length=128, blank=True)
    # Sent as the store's cancel reason: the subject of the reason of the last cancelled item.
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OutboxStatus.values), name="storefront_sync_status_known"),
            # An order is cancelled as a whole once: the store is told at most once.
            models.UniqueConstraint(
                fields=["order"], condition=~Q(status=OutboxStatus.SKIPPED), name="one_storefront_sync_per_order"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="storefront_sync_due_idx"),
            models.Index(fields=["status", "leased_until"], name="storefront_sync_lease_idx"),
            models.Index(fields=["channel", "-id"], name="storefront_sync_channel_idx"),
        ]

    def __str__(self):
        return f"Storefront sync {self.pk} of order {self.order_id} ({self.status})"
