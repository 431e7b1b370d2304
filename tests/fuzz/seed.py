"""Seeds the fuzz database through the project's own command and services; run as `python -m tests.fuzz.seed` with
DATABASE_URL set. Prints one JSON line: the tokens, the channel id and the ids the fuzzer must leave alone."""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnitron.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from cancellations.models import CancellationReason, CancellationType  # noqa: E402
from cancellations.services import RequestInput, cancellation_request_create, order_cancel  # noqa: E402
from channels.models import Channel  # noqa: E402
from orders.models import OrderItem, OrderStatus, PaymentOption  # noqa: E402

STAFF_USERNAME = "staff"
CHANNEL_USERNAME = "channel"


def _open_items(channel):
    """Unshipped credit-card items nobody asked to cancel yet (no IBAN needed), oldest first."""
    return (
        OrderItem.objects.filter(
            order__channel=channel,
            order__payment_option=PaymentOption.CREDIT_CARD,
            status=OrderStatus.APPROVED,
            cancel_status__isnull=True,
        )
        .select_related("order")
        .order_by("id")
    )


def main() -> None:
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", stdout=quiet)
    User = get_user_model()
    staff = User.objects.get(username=STAFF_USERNAME)
    channel_user = User.objects.get(username=CHANNEL_USERNAME)
    channel = channel_user.channels.order_by("id").first()
    cancel_reason = CancellationReason.objects.filter(cancellation_type=CancellationType.CANCEL).order_by("id").first()

    items = list(_open_items(channel)[:10])
    first = items[0]
    order_cancel(order_id=first.order_id, actor=staff, item_ids=[first.pk], reasons={first.pk: cancel_reason.pk})
    other = next(item for item in items if item.order_id != first.order_id)
    cancellation_request_create(
        channel=channel,
        fields=RequestInput(order_item=other, reason=cancel_reason, cancellation_type=CancellationType.CANCEL),
        actor=channel_user,
    )
    # A second channel the channel user is not linked to, so "another channel" is reachable too.
    Channel.objects.get_or_create(name="Fuzz marketplace", defaults={"channel_type": "marketplace", "conf": {}})
    print(
        json.dumps(
            {
                "staff_token": Token.objects.get(user=staff).key,
                "channel_token": Token.objects.get(user=channel_user).key,
                "channel_id": channel.pk,
                "protected_user_ids": [staff.pk, channel_user.pk],
            }
        )
    )


if __name__ == "__main__":
    main()
