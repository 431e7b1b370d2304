import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from cancellations.models import CancellationPlan, CancellationReason, CancellationRequest
from channels.models import Channel
from orders.models import Order, OrderItem
from orders.services import order_status_from_items
from refunds.models import BankTransfer, LoyaltyTransaction, Refund

pytestmark = pytest.mark.django_db

User = get_user_model()


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def printed(output: str, label: str) -> str:
    match = re.search(rf"^{label}:\s+(\S+)", output, re.MULTILINE)
    assert match, f"{label!r} not printed in:\n{output}"
    return match.group(1)


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def counts() -> dict:
    return {
        "orders": Order.objects.count(),
        "items": OrderItem.objects.count(),
        "reasons": CancellationReason.objects.count(),
        "users": User.objects.count(),
        "channels": Channel.objects.count(),
    }


def test_seed_demo_twice_creates_the_data_set_once():
    # given
    first = seed()
    after_first = counts()

    # when
    second = seed()

    # then
    assert after_first["orders"] == 60  # 50 orders and 10 ops scenarios
    assert after_first["reasons"] == 6
    assert after_first["users"] == 2
    assert after_first["channels"] == 1
    assert counts() == after_first
    assert "Nothing new to create" in second
    assert printed(second, "Staff token") == printed(first, "Staff token")
    assert printed(second, "Channel token") == printed(first, "Channel token")


def test_seed_demo_data_keeps_the_invariants():
    seed()

    channel = Channel.objects.get(name="Demo Web Shop")
    assert channel.channel_type == "web"
    assert channel.conf["easy_return"] == {"shipping_company": "yurtici", "valid_days": 14, "max_count": 1}
    assert set(Order.objects.values_list("number", flat=True)) == {f"DEMO-{n:04d}" for n in range(1, 51)} | {
        f"DEMO-OPS-{n:02d}" for n in range(1, 11)
    }
    for order in Order.objects.prefetch_related("items"):
        items = list(order.items.all())
        assert 1 <= len(items) <= 3
        value = sum((item.price * item.quantity for item in items), Decimal(0))
        assert order.amount == value - order.discount_amount + order.shipping_amount
        assert sum((item.discount_amount for item in items), Decimal(0)) == order.discount_amount
        assert order.status == order_status_from_items(item.status for item in items)
        assert order.currency == "try"
    demo_items = OrderItem.objects.exclude(order__number__startswith="DEMO-OPS-")
    assert set(demo_items.values_list("status", flat=True)) == {"400", "450", "500", "550"}
    assert set(Order.objects.values_list("payment_option", flat=True)) == {
        "credit_card",
        "funds_transfer",
        "pay_on_delivery",
        "loyalty_money",
        "financing",
    }
    assert Order.objects.filter(discount_amount__gt=0).exists()
    assert Order.objects.filter(shipping_amount__gt=0).exists()
    for order in Order.objects.filter(payment_option__in=["credit_card", "financing"]):
        assert order.payment_reference or order.financing_application_id
    assert set(CancellationReason.objects.values_list("cancellation_type", flat=True)) == {"cancel", "refund"}


def item_rows() -> list[tuple]:
    items = OrderItem.objects.order_by("order__number", "id")
    return list(items.values_list("order__number", "product__sku", "quantity", "price", "status"))


def test_seed_demo_is_deterministic():
    seed()
    first = item_rows()
    for model in (BankTransfer, LoyaltyTransaction, Refund, CancellationRequest, CancellationPlan, Order):
        model.objects.all().delete()

    seed()

    assert item_rows() == first


def test_printed_tokens_work():
    output = seed()
    channel = Channel.objects.get(name="Demo Web Shop")
    assert printed(output, "Channel id") == str(channel.pk)
    assert "127.0.0.1:8000" in output
    assert "curl " in output
    staff = token_client(printed(output, "Staff token"))
    channel_user = token_client(printed(output, "Channel token"))

    assert staff.get("/api/i1/orders/").status_code == 200
    response = channel_user.get(f"/api/channel/{channel.pk}/orders/")
    assert response.status_code == 200
    assert response.json()["count"] == 60
    assert channel_user.get("/api/i1/orders/").status_code == 403


def test_printed_passwords_log_in():
    output = seed("--staff-password", "another-staff-pass")
    assert "staff / another-staff-pass" in output
    assert "channel / channel-demo-pass" in output

    response = APIClient().post(
        "/api/i1/auth/login/", {"username": "staff", "password": "another-staff-pass"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["key"] == printed(output, "Staff token")
    staff = User.objects.get(username="staff")
    assert staff.is_staff
    assert staff.is_superuser
    assert not User.objects.get(username="channel").is_staff


def test_a_changed_password_on_a_second_run_replaces_the_token():
    first = seed()

    second = seed("--channel-password", "a-new-channel-pass")

    assert counts()["users"] == 2
    old_key, new_key = printed(first, "Channel token"), printed(second, "Channel token")
    assert new_key != old_key
    channel_id = printed(second, "Channel id")
    assert token_client(old_key).get(f"/api/channel/{channel_id}/orders/").status_code == 401
    assert token_client(new_key).get(f"/api/channel/{channel_id}/orders/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_seed_demo_gives_every_ops_screen_something_to_show():
    # when: real commits, after which refunds run in-process as `make run` runs them
    seed()
    output = seed()

    # then: requests in every state, three of them waiting a decision
    requests = CancellationRequest.objects.filter(order_item__order__number__startswith="DEMO-OPS-")
    assert sorted(requests.values_list("status", flat=True)) == [
        "completed",
        "rejected",
        "waiting",
        "waiting",
        "waiting",
    ]
    waiting = requests.filter(status="waiting")
    assert set(waiting.values_list("cancellation_type", flat=True)) == {"cancel", "refund"}
    assert waiting.filter(iban__isnull=False, holder_name__isnull=False).exists()
    # plans in every state
    assert set(CancellationPlan.objects.values_list("status", flat=True)) == {"waiting", "completed", "failed"}
    # refunds in every state: one failed with the gateway's words, one processing past its lease
    assert set(Refund.objects.values_list("status", flat=True)) == {"pending", "processing", "succeeded", "failed"}
    failed = Refund.objects.get(status="failed")
    assert failed.last_error == "sandbox_declined: the sandbox was told to refuse"
    assert failed.plan.status == "failed"
    assert Refund.objects.filter(status="processing", leased_until__lt=timezone.now()).exists()
    assert Refund.objects.filter(status="pending", next_attempt_at__isnull=False).exists()
    # bank transfers to export, and loyalty money paid out
    assert BankTransfer.objects.filter(status="pending").exists()
    assert LoyaltyTransaction.objects.exists()
    assert (
        "For ops, in the admin: 3 request(s) waiting a decision, 1 refund(s) failed, 2 bank transfer(s) to export."
        in output
    )
