import uuid

from django.conf import settings
from django.db import models

MONEY = {"max_digits": 14, "decimal_places": 2}


# BaseModel's JSON documents. Decoding them is most of the cost of reading a row: lists leave unread those their
# serializer does not show (`attribute_fields` names them for `defer()`).
ATTRIBUTE_FIELDS = ("attributes", "attributes_kwargs", "localized_attributes", "localized_attributes_kwargs")


def attribute_fields(*paths: str, fields=ATTRIBUTE_FIELDS) -> list[str]:
    """`fields` of the rows the lookup paths lead to (e.g. "order_item__order"; "" or no path: the row itself)."""
    return [f"{path}__{field}" if path else field for path in paths or ("",) for field in fields]


class BaseModel(models.Model):
    """Fields every Omnitron resource carries."""

    created_date = models.DateTimeField(auto_now_add=True, db_index=True)
    modified_date = models.DateTimeField(auto_now=True)
    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    attributes = models.JSONField(default=dict, blank=True)
    attributes_kwargs = models.JSONField(default=dict, blank=True)
    localized_attributes = models.JSONField(default=dict, blank=True)
    localized_attributes_kwargs = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True


def money_field(**kwargs):
    """A decimal amount with two places; never a float."""
    kwargs.setdefault("default", 0)
    return models.DecimalField(**MONEY, **kwargs)


class IdempotencyRecord(models.Model):
    """The first response to a request sent with an `Idempotency-Key`, replayed to repeats of that request."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", "In flight"  # the first request is still being processed
        DONE = "done", "Done"  # the response is stored and will be replayed

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The rendered JSON text, so a replay returns the body key for key in the original order.
    response_body = models.TextField(blank=True)
    created_date = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        # The table kept its name when the model moved here from the `omnitron` app.
        db_table = "omnitron_idempotencyrecord"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]

    def __str__(self):
        return f"{self.user_id}:{self.key} ({self.state})"
