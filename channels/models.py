from django.conf import settings
from django.db import models

from channels.conf import validate_conf
from omnitron.models import BaseModel


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

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(channel_type__in=ChannelType.values), name="channel_type_known"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        validate_conf(self.conf)
