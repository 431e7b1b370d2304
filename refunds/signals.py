from django.dispatch import Signal

# Sent inside the transaction that makes a refund final, with `refund=`. The cancellations app listens to do the
# plan's bookkeeping, so a refund and its consequences commit together or not at all.
refund_succeeded = Signal()
refund_failed = Signal()
