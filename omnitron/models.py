import uuid

from django.db import models

MONEY = {"max_digits": 14, "decimal_places": 2}


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
