"""What the admins of outbox rows share: the columns and filters ops read first, and an action that puts rows back
in the queue and says what became of each (sent and succeeded, failed again with the error, queued for a worker)."""

from django.contrib import admin, messages
from django.utils.text import Truncator

from common.errors import ApplicationError
from common.outbox import OutboxStatus

OUTBOX_LIST_DISPLAY = ("status", "attempts", "response_status", "short_error", "next_attempt_at", "modified_date")
OUTBOX_READONLY = (
    "status",
    "attempts",
    "last_error",
    "response_status",
    "leased_until",
    "next_attempt_at",
    "retry_until",
    "created_date",
    "modified_date",
)


class OutboxAdminMixin:
    """`requeue_one(row_id)` (a service: raises ApplicationError when the row may not be sent again) backs the
    `send_again` action."""

    list_filter = ("status",)
    ordering = ("-id",)
    sortable_by = ("id",)
    actions = ["send_again"]

    def requeue_one(self, row_id: int):
        raise NotImplementedError

    @admin.display(description="last error")
    def short_error(self, row):
        return Truncator(row.last_error).chars(80) or "-"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Send the selected rows again now", permissions=["view"])
    def send_again(self, request, queryset):
        for row_id in queryset.order_by("id").values_list("pk", flat=True):
            try:
                self.requeue_one(row_id)
            except ApplicationError as exc:
                self.message_user(request, f"{row_id}: not sent again: {exc.message}", messages.WARNING)
                continue
            # Without a broker the attempt ran on commit, before this line; with one, a worker has it now.
            row = queryset.model.objects.get(pk=row_id)
            if row.status == OutboxStatus.SUCCEEDED:
                self.message_user(request, f"{row_id}: sent, succeeded (attempt {row.attempts}).", messages.SUCCESS)
            elif row.status == OutboxStatus.PENDING and row.next_attempt_at is None:
                self.message_user(request, f"{row_id}: queued for a worker.", messages.INFO)
            else:
                self.message_user(
                    request, f"{row_id}: {row.status} after attempt {row.attempts}: {row.last_error}", messages.ERROR
                )
