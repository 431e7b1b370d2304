import uuid
from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory
from rest_framework.authtoken.models import Token

from cancellations.models import (
    CancellationPlan,
    CancellationPlanItem,
    CancellationQuote,
    CancellationReason,
    CancellationRequest,
    EasyReturn,
    RequestIdCeiling,
)
from channels.models import BatchRequest, Channel, IntegrationAction
from common.models import IdempotencyRecord
from orders.models import Customer, Order, OrderEvent, OrderItem, Product
from refunds.models import BankTransfer, LoyaltyTransaction, Refund
from storefront.models import StorefrontSync
from webhooks.models import Webhook, WebhookAttempt, WebhookDelivery


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = False
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def channels(self, create, extracted, **kwargs):
        if create and extracted:
            self.channels.set(extracted)
        if create:
            self.save()


class StaffUserFactory(UserFactory):
    is_staff = True
    is_superuser = True


class TokenFactory(DjangoModelFactory):
    class Meta:
        model = Token

    user = factory.SubFactory(UserFactory)


class ChannelFactory(DjangoModelFactory):
    class Meta:
        model = Channel

    name = factory.Sequence(lambda n: f"Channel {n}")
    channel_type = "web"
    conf = factory.LazyFunction(dict)
    is_active = True


class IntegrationActionFactory(DjangoModelFactory):
    """An action of an order that need not exist; pass `object_id` of a real one where it matters."""

    class Meta:
        model = IntegrationAction

    channel = factory.SubFactory(ChannelFactory)
    content_type = "order"
    object_id = factory.Sequence(lambda n: n + 1)
    remote_id = factory.Sequence(lambda n: f"R{n}")


class BatchRequestFactory(DjangoModelFactory):
    class Meta:
        model = BatchRequest

    channel = factory.SubFactory(ChannelFactory)


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    channel = factory.SubFactory(ChannelFactory)
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = "Ayse"
    last_name = "Yilmaz"
    phone_number = "+905551112233"


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    ean = factory.Sequence(lambda n: f"869{n:010d}")


class OrderFactory(DjangoModelFactory):
    """An order without items; its amounts are fixed up by OrderItemFactory or `order_with_items`."""

    class Meta:
        model = Order

    channel = factory.SubFactory(ChannelFactory)
    customer = factory.SubFactory(CustomerFactory, channel=factory.SelfAttribute("..channel"))
    number = factory.Sequence(lambda n: f"ORD-{n:06d}")
    date_placed = factory.LazyFunction(timezone.now)
    status = "400"
    currency = "try"
    amount = Decimal("0.00")
    discount_amount = Decimal("0.00")
    shipping_amount = Decimal("0.00")
    payment_option = "credit_card"
    payment_reference = factory.Sequence(lambda n: f"TX-{n}")


class OrderItemFactory(DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
    price = Decimal("100.00")
    tax_rate = Decimal("20.00")
    status = "400"
    discount_amount = Decimal("0.00")
    amount = factory.LazyAttribute(lambda o: o.price * o.quantity - o.discount_amount)


class OrderEventFactory(DjangoModelFactory):
    class Meta:
        model = OrderEvent

    order = factory.SubFactory(OrderFactory)
    type = "order_created"
    payload = factory.LazyFunction(dict)


class CancellationReasonFactory(DjangoModelFactory):
    class Meta:
        model = CancellationReason

    cancellation_type = "cancel"
    subject = factory.Sequence(lambda n: f"Reason {n}")


class EasyReturnFactory(DjangoModelFactory):
    class Meta:
        model = EasyReturn

    shipping_company = "yurtici"
    code = factory.Sequence(lambda n: f"ER{n:08d}")
    start_date = factory.LazyFunction(timezone.now)
    end_date = factory.LazyAttribute(lambda o: o.start_date + timezone.timedelta(days=14))


class CancellationPlanFactory(DjangoModelFactory):
    class Meta:
        model = CancellationPlan

    order = factory.SubFactory(OrderFactory)
    channel = factory.LazyAttribute(lambda plan: plan.order.channel)
    plan_type = "cancel"


class CancellationQuoteFactory(DjangoModelFactory):
    class Meta:
        model = CancellationQuote

    order = factory.SubFactory(OrderFactory)
    body_fingerprint = "0" * 64
    order_version = factory.LazyFunction(timezone.now)
    quote = factory.LazyFunction(lambda: {"plan_type": "cancel", "items": [], "refunds": [], "total": "0.00"})
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=15))


class CancellationPlanItemFactory(DjangoModelFactory):
    class Meta:
        model = CancellationPlanItem

    plan = factory.SubFactory(CancellationPlanFactory)
    order_item = factory.SubFactory(OrderItemFactory, order=factory.SelfAttribute("..plan.order"))
    quantity = 1
    refund_amount = Decimal("100.00")


class CancellationRequestFactory(DjangoModelFactory):
    class Meta:
        model = CancellationRequest

    order_item = factory.SubFactory(OrderItemFactory)
    channel = factory.LazyAttribute(lambda request: request.order_item.order.channel)
    date_placed = factory.LazyAttribute(lambda request: request.order_item.order.date_placed)
    customer = factory.LazyAttribute(lambda request: request.order_item.order.customer)
    reason = factory.SubFactory(CancellationReasonFactory)
    cancellation_type = "cancel"
    quantity = 1


class RequestIdCeilingFactory(DjangoModelFactory):
    class Meta:
        model = RequestIdCeiling

    channel = factory.SubFactory(ChannelFactory)
    day = factory.LazyFunction(lambda: timezone.now().date())
    id_ceiling = 1023


class RefundFactory(DjangoModelFactory):
    class Meta:
        model = Refund

    plan = factory.SubFactory(CancellationPlanFactory)
    order = factory.LazyAttribute(lambda refund: refund.plan.order)
    channel = factory.LazyAttribute(lambda refund: refund.plan.order.channel)
    kind = "items"
    method = "original_payment"
    amount = Decimal("100.00")
    currency = "try"


class BankTransferFactory(DjangoModelFactory):
    class Meta:
        model = BankTransfer

    refund = factory.SubFactory(
        RefundFactory, method="funds_transfer", iban="DE89370400440532013000", holder_name="Ayse Yilmaz"
    )
    iban = "DE89370400440532013000"
    holder_name = "Ayse Yilmaz"
    amount = factory.SelfAttribute("refund.amount")
    currency = "try"
    reference = factory.Sequence(lambda n: f"BT-{n:08d}")


class LoyaltyTransactionFactory(DjangoModelFactory):
    class Meta:
        model = LoyaltyTransaction

    customer = factory.SubFactory(CustomerFactory)
    amount = Decimal("10.00")
    currency = "try"


class IdempotencyRecordFactory(DjangoModelFactory):
    class Meta:
        model = IdempotencyRecord

    user = factory.SubFactory(UserFactory)
    key = factory.Sequence(lambda n: f"key-{n}")
    fingerprint = "0" * 64
    state = "done"
    response_status = 200
    response_body = "{}"


class StorefrontSyncFactory(DjangoModelFactory):
    class Meta:
        model = StorefrontSync

    order = factory.SubFactory(OrderFactory)
    channel = factory.LazyAttribute(lambda sync: sync.order.channel)
    remote_id = "633130-00000004"
    status = "failed"
    attempts = 1
    last_error = "HTTP 401: access token is invalid"


class WebhookFactory(DjangoModelFactory):
    class Meta:
        model = Webhook

    channel = factory.SubFactory(ChannelFactory)
    url = "https://hooks.example.com/in"
    events = factory.LazyFunction(lambda: ["order.cancelled"])
    secret = "whsec-0123456789abcdef"


class WebhookDeliveryFactory(DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    webhook = factory.SubFactory(WebhookFactory)
    channel = factory.LazyAttribute(lambda delivery: delivery.webhook.channel)
    event_id = factory.LazyFunction(uuid.uuid4)
    event_type = "order.cancelled"
    body = '{"id": "x", "type": "order.cancelled", "created": "2026-11-24T12:00:00Z", "data": {}}'
    status = "failed"
    attempts = 1
    last_error = "HTTP 500: boom"


class WebhookAttemptFactory(DjangoModelFactory):
    class Meta:
        model = WebhookAttempt

    delivery = factory.SubFactory(WebhookDeliveryFactory)
    number = 1
    status_code = 500
    duration_ms = 12
    response_excerpt = "boom"


def order_with_items(
    *,
    channel=None,
    lines=((Decimal("100.00"), 1),),
    discount=Decimal("0.00"),
    shipping=Decimal("0.00"),
    item_status="400",
    **order_kwargs,
) -> Order:
    """An order whose amounts add up, with the discount shared over its items as intake shares it."""
    from orders.money import allocate

    values = [price * quantity for price, quantity in lines]
    subtotal = sum(values, Decimal(0))
    kwargs = {"channel": channel} if channel else {}
    order = OrderFactory(
        **kwargs,
        amount=subtotal - discount + shipping,
        discount_amount=discount,
        shipping_amount=shipping,
        status=item_status,
        **order_kwargs,
    )
    for (price, quantity), share in zip(lines, allocate(discount, values), strict=True):
        OrderItemFactory(order=order, price=price, quantity=quantity, discount_amount=share, status=item_status)
    return order
