"""`manage.py seed_demo`: a demo sales channel, its users and tokens, cancellation reasons and 50 orders, plus a
few orders that give every ops screen something to show: requests waiting a decision, and plans and refunds in
every state (one failed with the gateway's error, one bank transfer to export).

Everything goes through the project's services (and the order intake serializer), so the demo data satisfies
the same invariants as data that came in over the API. Safe to run again: what exists is left alone (found by
name, username, (subject, type) and order number) and the credentials are printed again.
"""

import random
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from cancellations.models import CancellationReason, CancellationRequest, CancellationRequestStatus, CancellationType
from cancellations.services import (
    RequestInput,
    cancellation_request_approve,
    cancellation_request_create,
    cancellation_request_reject,
    order_cancel,
)
from channels.models import Channel, ChannelType
from channels.services import user_create, user_update
from common.errors import ApplicationError
from orders.models import Order, OrderItem, OrderStatus, PaymentOption
from orders.serializers import OrderCreateInputSerializer, order_intake
from orders.services import order_create, order_item_status_update
from refunds.models import BankTransfer, BankTransferStatus, Refund, RefundStatus

User = get_user_model()

CHANNEL_NAME = "Demo Web Shop"
CHANNEL_CONF = {
    "cancellation_strategy": "default",
    "easy_return": {"shipping_company": "yurtici", "valid_days": 14, "max_count": 1},
}
STAFF_USERNAME = "staff"
CHANNEL_USERNAME = "channel"
DEFAULT_STAFF_PASSWORD = "staff-demo-pass"
DEFAULT_CHANNEL_PASSWORD = "channel-demo-pass"
BASE_URL = "http://127.0.0.1:8000"

ORDER_COUNT = 50
ORDER_NUMBER_FORMAT = "DEMO-{:04d}"
DAYS_OF_HISTORY = 60
RANDOM_SEED = 42
CURRENCY = "try"
CENT = Decimal("0.01")
FREE_SHIPPING_FROM = Decimal("750.00")
SHIPPING_FEE = Decimal("39.90")

REASONS = [
    (CancellationType.CANCEL, "Customer changed their mind"),
    (CancellationType.CANCEL, "Ordered by mistake"),
    (CancellationType.CANCEL, "Delivery too slow"),
    (CancellationType.REFUND, "Damaged product"),
    (CancellationType.REFUND, "Wrong size"),
    (CancellationType.REFUND, "Not as described"),
]

# (sku, name, unit price, tax rate): clothing carries 10% VAT in Turkey, the rest 20%.
PRODUCTS = [
    ("DEMO-TSHIRT-WHT-M", "Basic T-shirt, white, M", "199.90", "10.00"),
    ("DEMO-TSHIRT-BLK-L", "Basic T-shirt, black, L", "199.90", "10.00"),
    ("DEMO-JEANS-SLIM-32", "Slim jeans, indigo, 32", "749.00", "10.00"),
    ("DEMO-HOODIE-GRY-M", "Hooded sweatshirt, grey, M", "549.50", "10.00"),
    ("DEMO-SNEAKER-42", "Canvas sneakers, 42", "899.00", "10.00"),
    ("DEMO-SOCKS-3PK", "Cotton socks, 3-pack", "89.90", "10.00"),
    ("DEMO-JACKET-RAIN-L", "Rain jacket, navy, L", "1299.00", "10.00"),
    ("DEMO-SCARF-WOOL", "Wool scarf, burgundy", "329.00", "10.00"),
    ("DEMO-BACKPACK-20L", "Backpack, 20 l", "649.90", "20.00"),
    ("DEMO-BOTTLE-750", "Steel water bottle, 750 ml", "249.00", "20.00"),
    ("DEMO-MUG-CERAMIC", "Ceramic mug", "119.90", "20.00"),
    ("DEMO-HEADPHONES-BT", "Bluetooth headphones", "1899.00", "20.00"),
    ("DEMO-WATCH-SPORT", "Sports watch", "2499.00", "20.00"),
    ("DEMO-SUNGLASSES", "Polarised sunglasses", "579.00", "20.00"),
    ("DEMO-CAP-LOGO", "Baseball cap with logo", "159.90", "10.00"),
]

CUSTOMERS = [
    ("Ayse", "Yilmaz"),
    ("Mehmet", "Kaya"),
    ("Zeynep", "Demir"),
    ("Mustafa", "Sahin"),
    ("Elif", "Celik"),
    ("Ahmet", "Yildiz"),
    ("Fatma", "Aydin"),
    ("Emre", "Ozturk"),
    ("Selin", "Arslan"),
    ("Burak", "Dogan"),
    ("Deniz", "Kilic"),
    ("Can", "Aslan"),
]

PAYMENT_OPTIONS = [
    PaymentOption.CREDIT_CARD,
    PaymentOption.CREDIT_CARD,
    PaymentOption.CREDIT_CARD,
    PaymentOption.FUNDS_TRANSFER,
    PaymentOption.PAY_ON_DELIVERY,
    PaymentOption.LOYALTY_MONEY,
    PaymentOption.FINANCING,
]

# Where fulfilment has got to, per item: approved, preparing, shipped, delivered.
ITEM_STATUS_WEIGHTS = {
    OrderStatus.APPROVED: 35,
    OrderStatus.PREPARING: 20,
    OrderStatus.SHIPPED: 25,
    OrderStatus.DELIVERED: 20,
}


# The ops scenarios: one order each, handed over and then decided as ops would, through the services. The sandbox
# gateway refuses a payment reference starting with "sandbox-fail" and is "unavailable" for "sandbox-unavailable".
OPS_ORDER_FORMAT = "DEMO-OPS-{:02d}"
DEMO_IBAN = "TR330006100519786457841326"
DEMO_HOLDER = "Ayse Yilmaz"


@dataclass(frozen=True)
class OpsScenario:
    payment_option: str
    payment_reference: str = ""
    item_status: str = OrderStatus.APPROVED
    # request: a waiting cancellation request; approved/rejected: a request so decided; cancel: cancelled at once;
    # stuck: cancelled, then its refund left processing by a worker that died
    then: str = "request"
    with_account: bool = False
    note: str = field(default="", compare=False)


OPS_SCENARIOS = [
    OpsScenario(PaymentOption.CREDIT_CARD, "PAY-OPS-01", note="waiting: cancel, refund to the card"),
    OpsScenario(PaymentOption.FUNDS_TRANSFER, with_account=True, note="waiting: cancel, refund by bank transfer"),
    OpsScenario(PaymentOption.CREDIT_CARD, "PAY-OPS-03", OrderStatus.DELIVERED, note="waiting: return"),
    OpsScenario(PaymentOption.CREDIT_CARD, "PAY-OPS-04", then="approved", note="request approved, plan completed"),
    OpsScenario(PaymentOption.CREDIT_CARD, "PAY-OPS-05", then="rejected", note="request rejected"),
    OpsScenario(PaymentOption.CREDIT_CARD, "sandbox-fail-OPS-06", then="cancel", note="plan failed: card declined"),
    OpsScenario(PaymentOption.FUNDS_TRANSFER, then="cancel", with_account=True, note="bank transfer to export"),
    OpsScenario(PaymentOption.CREDIT_CARD, "sandbox-unavailable-OPS-08", then="cancel", note="refund pending a retry"),
    OpsScenario(PaymentOption.CREDIT_CARD, "sandbox-unavailable-OPS-09", then="stuck", note="refund stuck processing"),
    OpsScenario(PaymentOption.LOYALTY_MONEY, then="cancel", note="plan completed: loyalty money"),
]


def ops_order_payload(index: int, scenario: OpsScenario, *, now) -> dict:
    sku, name, price, tax_rate = PRODUCTS[index % len(PRODUCTS)]
    amount = Decimal(price) * 2
    shipping = SHIPPING_FEE if amount < FREE_SHIPPING_FROM else Decimal(0)
    first_name, last_name = CUSTOMERS[index % len(CUSTOMERS)]
    payload = {
        "number": OPS_ORDER_FORMAT.format(index),
        "remote_id": f"WEB-OPS-{index}",
        "date_placed": (now - timedelta(days=index)).isoformat(),
        "currency": CURRENCY,
        "amount": str(amount + shipping),
        "shipping_amount": str(shipping),
        "payment_option": scenario.payment_option,
        "customer": {
            "email": f"{first_name}.{last_name}@example.com".lower(),
            "first_name": first_name,
            "last_name": last_name,
        },
        "items": [{"product": {"sku": sku, "name": name}, "quantity": 2, "price": price, "tax_rate": tax_rate}],
    }
    if scenario.payment_reference:
        payload["payment_reference"] = scenario.payment_reference
    return payload


def ean13(body: str) -> str:
    """A 13-digit EAN: the 12 digits given plus their check digit."""
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(body))
    return body + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class DemoOrder:
    payload: dict  # the intake body, as a sales channel would POST it
    item_statuses: list[str]  # where each item is moved to after intake


def demo_orders(*, now) -> list[DemoOrder]:
    """The 50 demo orders, the same every time (fixed seed), placed over the last 60 days, oldest first."""
    rng = random.Random(RANDOM_SEED)
    ages = sorted((rng.uniform(0.05, DAYS_OF_HISTORY) for _ in range(ORDER_COUNT)), reverse=True)
    orders = []
    for index, age_in_days in enumerate(ages, start=1):
        number = ORDER_NUMBER_FORMAT.format(index)
        first_name, last_name = rng.choice(CUSTOMERS)
        products = rng.sample(range(len(PRODUCTS)), k=rng.choice([1, 1, 2, 2, 3]))
        items = []
        subtotal = Decimal(0)
        for product_index in products:
            sku, name, price, tax_rate = PRODUCTS[product_index]
            quantity = rng.choice([1, 1, 1, 2, 3])
            subtotal += Decimal(price) * quantity
            items.append(
                {
                    "product": {"sku": sku, "name": name, "ean": ean13(f"8690000{product_index + 1:05d}")},
                    "quantity": quantity,
                    "price": price,
                    "tax_rate": tax_rate,
                }
            )
        discount = Decimal(0)
        if rng.random() < 0.3:
            percent = rng.choice([5, 10, 15])
            discount = (subtotal * percent / 100).quantize(CENT, rounding=ROUND_DOWN)
        shipping = SHIPPING_FEE if subtotal - discount < FREE_SHIPPING_FROM else Decimal(0)
        payment_option = rng.choice(PAYMENT_OPTIONS)
        payload = {
            "number": number,
            "remote_id": f"WEB-{100000 + index}",
            "date_placed": (now - timedelta(days=age_in_days)).isoformat(),
            "currency": CURRENCY,
            "amount": str(subtotal - discount + shipping),
            "discount_amount": str(discount),
            "shipping_amount": str(shipping),
            "payment_option": payment_option,
            "customer": {
                "email": f"{first_name}.{last_name}@example.com".lower(),
                "first_name": first_name,
                "last_name": last_name,
                "phone_number": f"+90532{CUSTOMERS.index((first_name, last_name)):07d}",
            },
            "items": items,
        }
        if payment_option == PaymentOption.CREDIT_CARD:
            payload["payment_reference"] = f"PAY-{rng.randrange(10**9, 10**10)}"
        if payment_option == PaymentOption.FINANCING:
            payload["financing_application_id"] = f"FIN-{rng.randrange(10**7, 10**8)}"
        statuses = rng.choices(list(ITEM_STATUS_WEIGHTS), weights=ITEM_STATUS_WEIGHTS.values(), k=len(items))
        orders.append(DemoOrder(payload=payload, item_statuses=statuses))
    return orders


class Command(BaseCommand):
    help = (
        "Create a demo sales channel, a staff and a channel user with tokens, cancellation reasons and 50 "
        "orders in varied states. Safe to run again: nothing is created twice, credentials are printed again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--staff-password", default=DEFAULT_STAFF_PASSWORD, help="Password of `staff`.")
        parser.add_argument("--channel-password", default=DEFAULT_CHANNEL_PASSWORD, help="Password of `channel`.")

    def handle(self, *args, staff_password: str, channel_password: str, **options):
        created = {"channel": 0, "users": 0, "cancellation reasons": 0, "orders": 0, "ops scenarios": 0}
        with transaction.atomic():
            channel = Channel.objects.filter(name=CHANNEL_NAME).order_by("id").first()
            if channel is None:
                channel = Channel.objects.create(name=CHANNEL_NAME, channel_type=ChannelType.WEB, conf=CHANNEL_CONF)
                created["channel"] += 1
            staff, staff_created = self._user_ensure(
                username=STAFF_USERNAME, password=staff_password, is_staff=True, channel=None
            )
            channel_user, channel_user_created = self._user_ensure(
                username=CHANNEL_USERNAME, password=channel_password, is_staff=False, channel=channel
            )
            created["users"] += staff_created + channel_user_created
            for position, (cancellation_type, subject) in enumerate(REASONS, start=1):
                # Not get_or_create: nothing stops ops from keeping two reasons with the same subject.
                reasons = CancellationReason.objects.filter(subject=subject, cancellation_type=cancellation_type)
                if not reasons.exists():
                    CancellationReason.objects.create(
                        subject=subject, cancellation_type=cancellation_type, order=position * 10
                    )
                    created["cancellation reasons"] += 1
            staff_token, _ = Token.objects.get_or_create(user=staff)
            channel_token, _ = Token.objects.get_or_create(user=channel_user)

        existing = set(Order.objects.filter(channel=channel).values_list("number", flat=True))
        for demo in demo_orders(now=timezone.now()):
            if demo.payload["number"] in existing:
                continue
            try:
                self._order_seed(demo=demo, channel=channel, channel_user=channel_user, staff=staff)
            except ApplicationError as exc:
                raise CommandError(f"Order {demo.payload['number']}: {exc.message} ({exc.code})") from exc
            created["orders"] += 1

        # The ops orders' numbers (DEMO-OPS-..) are not the demo orders': `existing` still tells which are there.
        now = timezone.now()
        for index, scenario in enumerate(OPS_SCENARIOS, start=1):
            payload = ops_order_payload(index, scenario, now=now)
            if payload["number"] in existing:
                continue
            try:
                self._ops_seed(
                    payload=payload, scenario=scenario, channel=channel, channel_user=channel_user, staff=staff
                )
            except ApplicationError as exc:
                raise CommandError(f"Order {payload['number']}: {exc.message} ({exc.code})") from exc
            created["ops scenarios"] += 1

        self._report(
            created=created,
            channel=channel,
            staff_password=staff_password,
            staff_token=staff_token.key,
            channel_password=channel_password,
            channel_token=channel_token.key,
        )

    def _user_ensure(self, *, username: str, password: str, is_staff: bool, channel: Channel | None):
        """The demo user as described, whatever state a previous run or a person left it in."""
        user = User.objects.filter(username=username).first()
        created = user is None
        if created:
            user = user_create(
                username=username, password=password, is_staff=is_staff, channels=[channel] if channel else []
            )
        # The staff user is a superuser too, so it can use the Django admin.
        wanted = {"is_staff": is_staff, "is_superuser": is_staff, "is_active": True}
        updates = {field: value for field, value in wanted.items() if getattr(user, field) != value}
        if not created and not user.check_password(password):
            updates["password"] = password  # user_update revokes the old token, as a password change must
        if updates:
            user = user_update(user=user, **updates)
        if channel is not None and not user.channels.filter(pk=channel.pk).exists():
            user.channels.add(channel)
        return user, created

    def _order_seed(self, *, demo: DemoOrder, channel: Channel, channel_user, staff) -> None:
        """Hand the order over as the channel would, then move its items on as fulfilment would."""
        data = OrderCreateInputSerializer(data=demo.payload)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            order = order_create(channel=channel, intake=order_intake(data.validated_data), actor=channel_user)
            item_ids = OrderItem.objects.filter(order=order).order_by("id").values_list("id", flat=True)
            for item_id, status in zip(item_ids, demo.item_statuses, strict=True):
                if status != OrderStatus.APPROVED:
                    order_item_status_update(item_id=item_id, status=status, actor=staff)

    def _ops_seed(self, *, payload: dict, scenario: OpsScenario, channel: Channel, channel_user, staff) -> None:
        """Hand the order over, then file or decide as the scenario says. Refunds run as the set-up runs them: at
        commit in-process, or on a worker."""
        data = OrderCreateInputSerializer(data=payload)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            order = order_create(channel=channel, intake=order_intake(data.validated_data), actor=channel_user)
            item = OrderItem.objects.get(order=order)
            if scenario.item_status != OrderStatus.APPROVED:
                order_item_status_update(item_id=item.pk, status=scenario.item_status, actor=staff)
        is_return = scenario.item_status != OrderStatus.APPROVED
        reason = CancellationReason.objects.filter(
            cancellation_type=CancellationType.REFUND if is_return else CancellationType.CANCEL, is_active=True
        ).order_by("order", "id")[0]
        account = {"iban": DEMO_IBAN, "holder_name": DEMO_HOLDER} if scenario.with_account else {}
        if scenario.then in ("request", "approved", "rejected"):
            request = cancellation_request_create(
                channel=channel,
                fields=RequestInput(
                    order_item=item,
                    reason=reason,
                    cancellation_type=CancellationType.REFUND if is_return else CancellationType.CANCEL,
                    quantity=1,
                    description="Asked by the customer on the web shop.",
                    **account,
                ),
                actor=channel_user,
            )
            if scenario.then == "approved":
                cancellation_request_approve(request_id=request.pk, actor=staff)
            elif scenario.then == "rejected":
                cancellation_request_reject(request_id=request.pk, actor=staff)
            return
        order_cancel(
            order_id=order.pk,
            actor=staff,
            item_ids=[item.pk],
            reasons={item.pk: reason.pk},
            ibans={item.pk: DEMO_IBAN} if scenario.with_account else None,
            holder_names={item.pk: DEMO_HOLDER} if scenario.with_account else None,
        )
        if scenario.then == "stuck":
            # What a worker that died in the middle of an attempt ten minutes ago leaves behind (its lease ran out
            # and no sweeper has come by yet): the in-process set-up never leaves a refund in that state.
            Refund.objects.filter(order=order, status=RefundStatus.PENDING).update(
                status=RefundStatus.PROCESSING,
                leased_until=timezone.now() - timedelta(minutes=10),
                lease_token=uuid.uuid4(),
                next_attempt_at=None,
            )

    def _report(self, *, created, channel, staff_password, staff_token, channel_password, channel_token) -> None:
        made = ", ".join(f"{count} {what}" for what, count in created.items() if count)
        orders = Order.objects.filter(channel=channel).count()
        waiting = CancellationRequest.objects.filter(channel=channel, status=CancellationRequestStatus.WAITING).count()
        failed = Refund.objects.filter(channel=channel, status=RefundStatus.FAILED).count()
        to_export = BankTransfer.objects.filter(refund__channel=channel, status=BankTransferStatus.PENDING).count()
        lines = [
            f"Created: {made}." if made else "Nothing new to create: the demo data is already there.",
            f'Demo channel "{channel.name}" has {orders} orders.',
            f"For ops, in the admin: {waiting} request(s) waiting a decision, {failed} refund(s) failed, "
            f"{to_export} bank transfer(s) to export.",
            "",
            f"Channel id:     {channel.pk}",
            f"Server:         {BASE_URL}  (make run, or: python manage.py runserver 127.0.0.1:8000)",
            f"Admin:          {BASE_URL}/admin/  (log in as the staff user)",
            f"API docs:       {BASE_URL}/api/docs/",
            "",
            f"Staff user:     {STAFF_USERNAME} / {staff_password}  (back office and Django admin)",
            f"Staff token:    {staff_token}",
            f"Channel user:   {CHANNEL_USERNAME} / {channel_password}  (only channel {channel.pk})",
            f"Channel token:  {channel_token}",
            "",
            "Try it:",
            f'  curl -H "Authorization: Token {staff_token}" "{BASE_URL}/api/i1/orders/?limit=5"',
            f'  curl -H "Authorization: Token {channel_token}" "{BASE_URL}/api/channel/{channel.pk}/orders/?limit=5"',
        ]
        self.stdout.write("\n".join(lines))
