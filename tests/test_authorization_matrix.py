"""The authorization matrix, generated from the URLconf: every API route and method, for every kind of caller.

- anonymous and a bad token: 401 (the public routes aside);
- a channel user on its own channel's path: allowed (2xx, or 4xx for the empty body), never 401/403/500;
- a channel user on another channel's path: 403; on its own path with another channel's object: 404;
- a channel user on a back-office path (`/api/i1/`, `/api/v1/`): 403, but for logging in and out, `active_user/`
  and reading its own channel;
- staff: allowed everywhere, never 401/403/500.

A route this file does not know fails the test: a new endpoint gets its row here before it ships.
"""

import uuid
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import URLResolver, get_resolver
from rest_framework.test import APIClient

from cancellations.services import order_cancel
from storefront.models import StorefrontSync
from tests.conftest import auth_client
from tests.factories import (
    BatchRequestFactory,
    CancellationReasonFactory,
    CancellationRequestFactory,
    ChannelFactory,
    IntegrationActionFactory,
    StaffUserFactory,
    UserFactory,
    order_with_items,
)
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

# route name -> the object its <pk> names (None: no pk). Every API route must be listed.
ROUTES = {
    "login": None,
    "logout": None,
    "active-user": None,
    "health": None,
    "schema": None,
    "docs": None,
    "redoc": None,
    "channel-list": None,
    "channel-detail": "channel",
    "user-list": None,
    "user-detail": "user",
    "order-list": None,
    "order-detail": "order",
    "order-cancel": "order",
    "order-cancel-quote": "order",
    "order-cancellation-eligibility": "order",
    "order-item-list": None,
    "order-item-detail": "item",
    "cancellation-reason-list": None,
    "cancellation-reason-detail": "reason",
    "cancellation-plan-list": None,
    "cancellation-plan-detail": "plan",
    "cancellation-plan-retry": "plan",
    "storefront-sync-list": None,
    "storefront-sync-detail": "sync",
    "storefront-sync-retry": "sync",
    "webhook-list": None,
    "webhook-detail": "webhook",
    "webhook-delivery-list": None,
    "webhook-delivery-detail": "delivery",
    "webhook-delivery-redeliver": "delivery",
    "channel-order-list": None,
    "channel-order-updates": None,
    "channel-order-detail": "order",
    "channel-order-cancel": "order",
    "channel-order-cancel-quote": "order",
    "channel-order-cancellation-eligibility": "order",
    "channel-order-item-list": None,
    "channel-order-item-detail": "item",
    "channel-cancellation-reason-list": None,
    "channel-cancellation-reason-detail": "reason",
    "channel-cancellation-request-list": None,
    "channel-cancellation-request-detailed-list": None,
    "channel-cancellation-request-updates": None,
    "channel-cancellation-request-detail": "request",
    "channel-cancellation-request-detailed": "request",
    "channel-cancellation-request-reject": "request",
    "channel-cancellation-request-approve": "request",
    "channel-cancellation-plan-list": None,
    "channel-cancellation-plan-detail": "plan",
    "channel-integration-action-list": None,
    "channel-integration-action-detail": "action",
    "channel-batch-request-list": None,
    "channel-batch-request-detail": "batch",
}
PUBLIC = {"login", "health", "schema", "docs", "redoc"}
# Back-office routes a channel user may use (with the methods and objects it may use them for).
CHANNEL_USER_BACK_OFFICE = {"logout", "active-user", "channel-list", "channel-detail"}
STAFF_ONLY_CHANNEL_ROUTES = {"channel-cancellation-request-approve"}
# Objects every channel shares: another channel's id does not exist for them.
SHARED_OBJECTS = {"reason"}
DENIED = {401, 403, 500}


def api_routes():
    """(route template, name, methods) for every API route of the URLconf."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern

    found = []
    for route, pattern in walk(get_resolver().url_patterns):
        if not route.startswith("api/"):
            continue
        view = pattern.callback
        actions = getattr(view, "actions", None)
        view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
        # DRF adds `head` to a viewset's actions on its first request: the matrix asks GET, not HEAD
        methods = (
            sorted(set(actions) - {"head"})
            if actions
            else [m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)]
        )
        found.append((route, pattern.name, methods))
    return found


def concrete(route: str, *, channel_id: int, pk) -> str:
    path = "/" + route.replace("^", "").replace("$", "")
    path = path.replace("<id:channel_id>", str(channel_id))
    for placeholder in ("<id:pk>", "(?P<pk>[0-9]{1,18})"):
        path = path.replace(placeholder, str(pk))
    return path


@pytest.fixture
def world():
    own, other = ChannelFactory(name="Own"), ChannelFactory(name="Other")
    reason = CancellationReasonFactory(cancellation_type="cancel")

    def objects_of(channel):
        order = order_with_items(channel=channel, lines=[(Decimal("10.00"), 1)] * 3, payment_reference="TX")
        first, second, _ = order.items.order_by("id")
        request = CancellationRequestFactory(order_item=first, reason=reason)
        plan = order_cancel(order_id=order.pk, item_ids=[second.pk], reasons={second.pk: reason.pk})
        webhook = Webhook.objects.create(
            channel=channel, url="https://receiver.example/hook", events=["order.cancelled"], secret="s" * 16
        )
        delivery = WebhookDelivery.objects.create(
            webhook=webhook, channel=channel, event_id=uuid.uuid4(), event_type="order.cancelled", body="{}"
        )
        return {
            "channel": channel.pk,
            "order": order.pk,
            "item": first.pk,
            "request": request.pk,
            "plan": plan.pk,
            "reason": reason.pk,
            "action": IntegrationActionFactory(channel=channel, object_id=order.pk).pk,
            "batch": BatchRequestFactory(channel=channel).pk,
            "sync": StorefrontSync.objects.create(order=order, channel=channel, status="failed").pk,
            "webhook": webhook.pk,
            "delivery": delivery.pk,
        }

    staff = StaffUserFactory()
    shop = UserFactory(channels=[own])
    return {
        "own": own,
        "other": other,
        "own_objects": {**objects_of(own), "user": shop.pk},
        "other_objects": {**objects_of(other), "user": UserFactory(channels=[other]).pk},
        "staff": auth_client(staff),
        "shop": auth_client(shop),
    }


def call(client, method: str, path: str) -> int:
    """The response status, with every write rolled back: each cell starts from the same world."""
    with transaction.atomic():
        if method in ("post", "put", "patch"):
            response = getattr(client, method)(path, {}, format="json")
        else:
            response = getattr(client, method)(path)
        transaction.set_rollback(True)
    return response.status_code


def test_every_api_route_has_a_row():
    names = {name for _, name, _ in api_routes()}
    assert names - set(ROUTES) == set(), "add the new route to ROUTES and check its rules"
    assert set(ROUTES) - names == set(), "a route listed here no longer exists"


def test_the_matrix(world):
    cells, wrong = 0, []

    def expect(label, status, allowed):
        nonlocal cells
        cells += 1
        if status not in allowed:
            wrong.append(
                f"{label}: {status}, expected {sorted(allowed) if len(allowed) < 10 else 'not ' + str(DENIED)}"
            )

    anyone = APIClient()
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    allowed_any = set(range(200, 500)) - DENIED
    for route, name, methods in api_routes():
        kind = ROUTES[name]
        is_channel_route = "<id:channel_id>" in route
        own_path = concrete(route, channel_id=world["own"].pk, pk=world["own_objects"].get(kind))
        for method in methods:
            label = f"{method.upper()} {own_path}"
            if name in PUBLIC:
                # no token needed: login answers 400 to the empty body, health 200 or 503 (no broker here)
                expect(f"{label} anonymous", call(anyone, method, own_path), (allowed_any | {503}) - {401})
                continue
            expect(f"{label} anonymous", call(anyone, method, own_path), {401})
            expect(f"{label} bad token", call(forged, method, own_path), {401})
            expect(f"{label} staff", call(world["staff"], method, own_path), allowed_any)
            shop = world["shop"]
            if is_channel_route:
                if name in STAFF_ONLY_CHANNEL_ROUTES:
                    expect(f"{label} channel user (staff-only action)", call(shop, method, own_path), {403})
                else:
                    expect(f"{label} channel user, own channel", call(shop, method, own_path), allowed_any)
                other_path = concrete(route, channel_id=world["other"].pk, pk=world["other_objects"].get(kind))
                expect(
                    f"{method.upper()} {other_path} channel user, another channel",
                    call(shop, method, other_path),
                    {403},
                )
                if kind and kind not in SHARED_OBJECTS and name not in STAFF_ONLY_CHANNEL_ROUTES:
                    foreign = concrete(route, channel_id=world["own"].pk, pk=world["other_objects"][kind])
                    expect(
                        f"{method.upper()} {foreign} channel user, another channel's object",
                        call(shop, method, foreign),
                        {404},
                    )
            elif name in CHANNEL_USER_BACK_OFFICE:
                reads_own = method == "get" or name in ("logout", "active-user")
                expect(f"{label} channel user", call(shop, method, own_path), allowed_any if reads_own else {403})
                if kind == "channel":
                    foreign = concrete(route, channel_id=0, pk=world["other_objects"]["channel"])
                    expect(
                        f"{method.upper()} {foreign} channel user, another channel", call(shop, method, foreign), {403}
                    )
            else:
                expect(f"{label} channel user on the back office", call(shop, method, own_path), {403})

    assert wrong == [], "\n".join(wrong)
    assert cells > 500  # the matrix really walked the routes (the closing figure is printed below)
    print(f"authorization matrix: {cells} cells")
