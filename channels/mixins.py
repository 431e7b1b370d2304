from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from rest_framework.permissions import IsAuthenticated

from channels.models import Channel
from common.api.permissions import HasChannelAccess


class ChannelScopedMixin:
    """For views under `/api/channel/{channel_id}/`: access check, and the channel the path names (404 if none)."""

    permission_classes = [IsAuthenticated, HasChannelAccess]

    @property
    def channel_id(self) -> int:
        if getattr(self, "swagger_fake_view", False):
            return 0  # schema generation: no request, an empty scope
        return self.kwargs["channel_id"]

    @cached_property
    def channel(self) -> Channel:
        return get_object_or_404(Channel, pk=self.kwargs["channel_id"])

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if getattr(self, "swagger_fake_view", False):
            return
        self.channel  # noqa: B018 - resolves the channel early so an unknown one is 404 on every method
