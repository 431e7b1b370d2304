from cancellations.models import CancellationReason


def cancellation_reason_deactivate(*, reason: CancellationReason) -> CancellationReason:
    """Reasons are never deleted: requests and plans keep pointing at them."""
    if reason.is_active:
        reason.is_active = False
        reason.save(update_fields=["is_active", "modified_date"])
    return reason
