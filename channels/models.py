import uuid

from django.conf import settings
from django.db import models

from channels.conf import validate_conf
from common.models import BaseModel


class ChannelType(models.TextChoices):
    WEB = "web", "Web shop"  # the brand's own storefront
    MARKETPLACE = "marketplace", "Marketplace"  # a third-party marketplace selling the brand's products
    MOBILE = "mobile", "Mobile app"  # the brand's mobile application
    SHOPLAZA = "shoplaza", "Shoplaza storefront"  # a storefront hosted on the Shoplaza platform


class Channel(BaseModel):
    """A sales channel: where orders come from, and whose users may act on them."""

    name = models.CharField(max_length=255)
    channel_type = models.CharField(max_length=32, choices=ChannelType.choices, default=ChannelType.WEB)
    # cancellation_strategy, easy_return settings, storefront credentials, ...
    conf = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="channels", blank=True)
    # The event types the channel's active webhooks subscribe to, kept by the webhooks app in the transaction of
    # every subscription change: a change of an order decides from the channel row it already holds whether anyone
    # listens, without a query, and a channel nobody listens to costs nothing.
    # (The database default serves rows written by plain SQL, such as the bench's bulk load.)
    webhook_events = models.JSONField(
        default=list, db_default=models.Value([], output_field=models.JSONField()), blank=True, editable=False
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(channel_type__in=ChannelType.values), name="channel_type_known"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        validate_conf(self.conf)


class SyncContentType(models.TextChoices):
    """What an integration action or a batch request is about; the names are Omnitron's content type models."""

    ORDER = "order", "Order"  # an order the channel handed over (its remote_id is the channel's order id)
    ORDER_ITEM = "orderitem", "Order item"  # an order line (several items may share one remote basket line)
    PRODUCT = "product", "Product"  # a catalogue product as listed on the channel (not channel-scoped here)
    CANCELLATION_REQUEST = "cancellationrequest", "Cancellation request"  # a request to cancel or return an item


class IntegrationAction(models.Model):
    """What a channel knows of one object: its id on the channel, and the version of it the channel last received.

    The sync feeds (`.../orders/updates/`, `.../cancellation_requests/updates/`) offer an object while it has no
    action, or its action's `version_date` is null or older than the object's `modified_date`.
    """

    # Indexed by the two composite indexes below, which both start with the channel.
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="integration_actions", db_index=False)
    content_type = models.CharField(max_length=32, choices=SyncContentType.choices)
    object_id = models.BigIntegerField()
    # Not unique: one remote basket line may stand for several order items.
    remote_id = models.CharField(max_length=255, null=True, blank=True)
    # The object's modified_date the channel last received; null: never sent (or to be sent again).
    version_date = models.DateTimeField(null=True, blank=True)
    state = models.JSONField(default=dict, blank=True)
    created_date = models.DateTimeField(auto_now_add=True)
    modified_date = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # Its index also serves the lookups by (channel, content_type, object_id): the feeds and object_id__in.
            models.UniqueConstraint(
                fields=["channel", "content_type", "object_id"], name="integration_action_unique_object"
            ),
            models.CheckConstraint(
                condition=models.Q(content_type__in=SyncContentType.values), name="integration_action_type_known"
            ),
            models.CheckConstraint(condition=models.Q(object_id__gte=1), name="integration_action_object_id_positive"),
        ]
        indexes = [
            models.Index(fields=["channel", "content_type", "remote_id"], name="integration_remote_id_idx"),
        ]

    def __str__(self):
        return f"{self.channel_id}:{self.content_type}:{self.object_id} -> {self.remote_id}"


class BatchRequestStatus(models.TextChoices):
    """A batch request moves forward only; `done` and `fail` are final. Steps may be skipped."""

    INITIALIZED = "initialized", "Initialized"  # created by the channel app; nothing read yet
    COMMIT = "commit", "Commit"  # the channel app took the listed objects: they are marked sent
    SENT_TO_REMOTE = "sent_to_remote", "Sent to remote"  # the objects went to the channel, which works on them
    ONGOING = "ongoing", "Ongoing"  # the channel is still working on them
    DONE = "done", "Done"  # final: finished; objects with a failed_reason_type are offered again
    FAIL = "fail", "Fail"  # final: the run failed as a whole; its objects are offered again

    @classmethod
    def rank(cls, value: str) -> int:
        return BATCH_REQUEST_RANK[value]

    @classmethod
    def is_final(cls, value: str) -> bool:
        return value in (cls.DONE, cls.FAIL)


BATCH_REQUEST_RANK = {
    BatchRequestStatus.INITIALIZED: 0,
    BatchRequestStatus.COMMIT: 1,
    BatchRequestStatus.SENT_TO_REMOTE: 2,
    BatchRequestStatus.ONGOING: 3,
    BatchRequestStatus.DONE: 4,
    BatchRequestStatus.FAIL: 4,
}


class BatchRequest(models.Model):
    """One run of a channel app (fetch orders, send updates, ...), tracked across both systems."""

    # Indexed by batch_channel_status_idx, which also serves channel-only lookups.
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="batch_requests", db_index=False)
    local_batch_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=BatchRequestStatus.choices, default=BatchRequestStatus.INITIALIZED)
    content_type = models.CharField(max_length=32, choices=SyncContentType.choices, blank=True, default="")
    # The API's `objects`: [{"pk", "content_type", "version_date", "remote_id", "failed_reason_type"}, ...] as the
    # channel app sent them (a field named `objects` would hide the model's manager).
    batch_objects = models.JSONField(default=list, blank=True)
    remote_batch_id = models.CharField(max_length=255, null=True, blank=True)
    created_date = models.DateTimeField(auto_now_add=True)
    modified_date = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=BatchRequestStatus.values), name="batch_request_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(content_type__in=[*SyncContentType.values, ""]), name="batch_request_type_known"
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "status"], name="batch_channel_status_idx"),
        ]

    def __str__(self):
        return f"{self.local_batch_id} ({self.content_type or '-'}, {self.status})"
