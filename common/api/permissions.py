from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsStaff(BasePermission):
    """Back-office users only: a channel user gets 403 on every `/api/i1/` path."""

    message = "Only back-office (staff) users may use this path."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class HasChannelAccess(BasePermission):
    """`/api/channel/{channel_id}/...`: staff reach every channel; a channel user only the channels it is linked to.

    A channel user asking for a channel it is not linked to gets 403 whether or not that channel exists, so ids of
    other channels are never confirmed.
    """

    message = "You are not linked to this sales channel."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_staff:
            return True
        return user.channels.filter(pk=view.kwargs["channel_id"]).exists()


class IsStaffOrReadsOwnChannel(BasePermission):
    """`/api/i1/channels/`: staff manage every channel; a channel user may read the channels it is linked to (the
    integration reads its own `conf` and `is_active`, as channel-app does on start-up) and nothing else: another
    channel is 403, like every `/api/channel/{channel_id}/` path of a channel it is not linked to."""

    message = "Only back-office (staff) users may change channels; a channel user reads its own channels only."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return user.is_staff or request.method in SAFE_METHODS

    def has_object_permission(self, request, view, obj):
        return request.user.is_staff or request.user.channels.filter(pk=obj.pk).exists()
