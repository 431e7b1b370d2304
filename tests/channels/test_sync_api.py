"""The Omnitron sync protocol as channel-app drives it: integration actions, batch requests and the update feeds."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from channels.models import BatchRequest, BatchRequestStatus, IntegrationAction
from channels.services import integration_action_record
from orders.models import Order, Product
from tests.factories import (
    BatchRequestFactory,
    CancellationReasonFactory,
    CancellationRequestFactory,
    IntegrationActionFactory,
    order_with_items,
)

pytestmark = pytest.mark.django_db

ACTION_FIELDS = {
    "id",
    "pk",
    "channel",
    "content_type",
    "object_id",
    "remote_id",
    "version_date",
    "state",
    "created_date",
    "modified_date",
}
BATCH_FIELDS = {
    "id",
    "pk",
    "channel",
    "local_batch_id",
    "status",
    "content_type",
    "objects",
    "remote_batch_id",
    "created_date",
    "modified_date",
}


def actions_url(channel, pk=None):
    return f"/api/channel/{channel.pk}/integration_actions/" + (f"{pk}/" if pk else "")


def batches_url(channel, pk=None):
    return f"/api/channel/{channel.pk}/batch_requests/" + (f"{pk}/" if pk else "")


def feed(client, channel, kind="orders", **params):
    response = client.get(f"/api/channel/{channel.pk}/{kind}/updates/", params)
    assert response.status_code == 200, response.content
    return response.json()


def feed_ids(client, channel, kind="orders"):
    return [row["id"] for row in feed(client, channel, kind, limit=100)["results"]]


def batch_object(row, content_type, *, remote_id=None, failed_reason_type=None):
    """An entry of a batch request's `objects`, built as channel-app's `create_batch_objects` builds it."""
    return {
        "pk": row["pk"],
        "failed_reason_type": failed_reason_type,
        "remote_id": remote_id,
        "version_date": row["modified_date"],
        "content_type": content_type,
    }


def commit(client, channel, objects, content_type="order"):
    """channel-app's GetOrders: a new batch request, committed with what the feed showed."""
    created = client.post(batches_url(channel), {"channel": channel.pk}, format="json")
    assert created.status_code == 201, created.content
    body = {"channel": channel.pk, "objects": objects, "status": "commit", "content_type": content_type}
    response = client.patch(batches_url(channel, created.json()["pk"]), body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def snapshot(batch: BatchRequest) -> dict:
    batch.refresh_from_db()
    return {
        "status": batch.status,
        "objects": batch.batch_objects,
        "remote_batch_id": batch.remote_batch_id,
        "content_type": batch.content_type,
    }


# Integration actions


def test_create_integration_action_as_channel_app_posts_it(channel_client, channel):
    order = order_with_items(channel=channel)
    version = timezone.now().replace(microsecond=0)

    response = channel_client.post(
        actions_url(channel),
        {
            "content_type": "order",
            "channel_id": channel.pk,
            "object_id": order.pk,
            "remote_id": "R1",
            "version_date": version.isoformat(),
            "state": {},
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == ACTION_FIELDS
    assert body["pk"] == body["id"]
    assert (body["channel"], body["content_type"], body["object_id"], body["remote_id"], body["state"]) == (
        channel.pk,
        "order",
        order.pk,
        "R1",
        {},
    )
    assert parse_datetime(body["version_date"]) == version
    assert channel_client.get(actions_url(channel, body["id"])).json() == body


def test_a_second_action_for_the_same_object_is_refused(channel_client, channel):
    order = order_with_items(channel=channel)
    IntegrationActionFactory(channel=channel, content_type="order", object_id=order.pk, remote_id="R1")

    response = channel_client.post(
        actions_url(channel), {"content_type": "order", "object_id": order.pk, "remote_id": "R2"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "integration_action_exists"
    assert list(IntegrationAction.objects.values_list("remote_id", flat=True)) == ["R1"]


def test_an_action_cannot_be_created_for_another_channels_object(channel_client, channel, other_channel):
    foreign = order_with_items(channel=other_channel)
    foreign_item = foreign.items.get()

    refusals = [
        channel_client.post(actions_url(channel), {"content_type": "order", "object_id": foreign.pk}, format="json"),
        channel_client.post(
            actions_url(channel), {"content_type": "orderitem", "object_id": foreign_item.pk}, format="json"
        ),
        channel_client.post(actions_url(channel), {"content_type": "order", "object_id": 999_999}, format="json"),
    ]

    assert [(r.status_code, r.json()["code"]) for r in refusals] == [(400, "object_not_in_channel")] * 3
    assert not IntegrationAction.objects.exists()


def test_an_action_for_a_product_needs_only_the_product(channel_client, channel):
    product = order_with_items(channel=channel).items.get().product

    response = channel_client.post(
        actions_url(channel), {"content_type": "product", "object_id": product.pk, "remote_id": "P-1"}, format="json"
    )

    assert response.status_code == 201, response.content


def test_a_body_naming_another_channel_is_refused(channel_client, channel, other_channel):
    order = order_with_items(channel=channel)

    response = channel_client.post(
        actions_url(channel),
        {"content_type": "order", "object_id": order.pk, "channel_id": other_channel.pk},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "channel_mismatch"
    assert not IntegrationAction.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("content_type", "productprice"),
        ("object_id", 0),
        ("object_id", "abc"),
        ("object_id", 2**63),
        ("state", ["not", "an", "object"]),
        ("version_date", "yesterday"),
    ],
)
def test_invalid_action_input_is_400(channel_client, channel, field, value):
    order = order_with_items(channel=channel)
    body = {"content_type": "order", "object_id": order.pk, field: value}

    response = channel_client.post(actions_url(channel), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not IntegrationAction.objects.exists()


@pytest.mark.parametrize("method", ["patch", "put"])
def test_update_changes_remote_id_version_date_and_state_only(channel_client, channel, method):
    order = order_with_items(channel=channel)
    action = IntegrationActionFactory(channel=channel, content_type="order", object_id=order.pk, remote_id="R1")
    version = timezone.now().replace(microsecond=0)

    response = getattr(channel_client, method)(
        actions_url(channel, action.pk),
        {
            "remote_id": "R2",
            "version_date": version.isoformat(),
            "state": {"status": "success"},
            "object_id": order.pk + 100,
            "content_type_id": 7,
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    action.refresh_from_db()
    assert (action.remote_id, action.version_date, action.state) == ("R2", version, {"status": "success"})
    assert (action.content_type, action.object_id) == ("order", order.pk)


def test_a_patch_leaves_the_fields_it_does_not_send(channel_client, channel):
    version = timezone.now()
    action = IntegrationActionFactory(channel=channel, remote_id="R1", version_date=version, state={"a": 1})

    response = channel_client.patch(actions_url(channel, action.pk), {"state": {"b": 2}}, format="json")

    assert response.status_code == 200
    action.refresh_from_db()
    assert (action.remote_id, action.version_date, action.state) == ("R1", version, {"b": 2})


@pytest.mark.parametrize("as_staff", [False, True])
def test_another_channels_action_is_404(channel_client, staff_client, channel, other_channel, as_staff):
    client = staff_client if as_staff else channel_client
    foreign = IntegrationActionFactory(channel=other_channel, remote_id="R1")

    retrieve = client.get(actions_url(channel, foreign.pk))
    patch = client.patch(actions_url(channel, foreign.pk), {"remote_id": "mine"}, format="json")
    listed = client.get(actions_url(channel)).json()

    assert (retrieve.status_code, patch.status_code) == (404, 404)
    assert listed["count"] == 0
    foreign.refresh_from_db()
    assert foreign.remote_id == "R1"


def test_a_channel_user_cannot_reach_another_channels_path(channel_client, other_channel):
    assert channel_client.get(actions_url(other_channel)).status_code == 403
    assert channel_client.get(batches_url(other_channel)).status_code == 403
    assert channel_client.get(f"/api/channel/{other_channel.pk}/orders/updates/").status_code == 403


def test_the_routes_are_also_served_under_v1(channel_client, channel):
    action = IntegrationActionFactory(channel=channel)

    response = channel_client.get(f"/api/v1/channel/{channel.pk}/integration_actions/{action.pk}/")

    assert response.status_code == 200
    assert response.json()["id"] == action.pk


def test_list_filters_as_channel_app_sends_them(channel_client, channel, other_channel):
    # given: one remote basket line split over two items; an order; a product
    item_a = IntegrationActionFactory(channel=channel, content_type="orderitem", object_id=11, remote_id="L1")
    item_b = IntegrationActionFactory(channel=channel, content_type="orderitem", object_id=12, remote_id="L1")
    item_c = IntegrationActionFactory(channel=channel, content_type="orderitem", object_id=13, remote_id="L2")
    order = IntegrationActionFactory(channel=channel, content_type="order", object_id=11, remote_id="O1")
    product = IntegrationActionFactory(channel=channel, content_type="product", object_id=5, remote_id="SKU-5")
    IntegrationActionFactory(channel=other_channel, content_type="orderitem", object_id=11, remote_id="L1")

    def ids(**params):
        response = channel_client.get(actions_url(channel), params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    # then
    assert ids(
        channel=channel.pk, content_type_name="orderitem", remote_id__exact="L1", sort="id", channel_id=channel.pk
    ) == [item_a.pk, item_b.pk]
    assert ids(content_type_name="orderitem", remote_id__in="L1,L2", sort="-id") == [item_c.pk, item_b.pk, item_a.pk]
    assert ids(content_type_name="orderitem", object_id__in="11,13", limit=2, page=1) == [item_a.pk, item_c.pk]
    assert ids(content_type="order", object_id__in="11") == [order.pk]
    assert ids(content_type_name="product", remote_id__in="SKU-5", local_batch_id=uuid.uuid4(), status="processing")
    assert ids(remote_id__exact="O1") == [order.pk]
    assert ids(content_type_name="product") == [product.pk]
    assert ids(channel=other_channel.pk) == []
    assert ids(remote_id__exact="nothing") == []


@pytest.mark.parametrize(
    "params",
    [
        {"content_type_name": "productprice"},
        {"content_type": "nope"},
        {"object_id__in": "1,x"},
        {"object_id__in": str(2**63)},
        {"channel": "abc"},
        {"sort": "remote_id"},
        {"limit": "many"},
    ],
)
def test_invalid_list_filter_values_are_400(channel_client, channel, params):
    IntegrationActionFactory(channel=channel)

    response = channel_client.get(actions_url(channel), params)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_record_upserts_and_never_wipes_a_remote_id(channel):
    order = order_with_items(channel=channel)
    first, second = timezone.now() - timedelta(hours=1), timezone.now()

    created = integration_action_record(
        channel=channel, content_type="order", object_id=order.pk, remote_id="R1", version_date=first
    )
    updated = integration_action_record(
        channel=channel, content_type="order", object_id=order.pk, remote_id=None, version_date=second
    )

    assert created.pk == updated.pk
    assert (updated.remote_id, updated.version_date) == ("R1", second)
    assert IntegrationAction.objects.count() == 1


# Batch requests


def test_create_batch_request_as_channel_app_posts_it(channel_client, channel):
    response = channel_client.post(batches_url(channel), {"channel": channel.pk}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == BATCH_FIELDS
    assert (body["pk"], body["channel"], body["status"], body["objects"], body["content_type"]) == (
        body["id"],
        channel.pk,
        "initialized",
        [],
        "",
    )
    assert uuid.UUID(body["local_batch_id"])
    assert channel_client.get(batches_url(channel, body["id"])).json() == body


def test_a_batch_request_for_another_channel_in_the_body_is_refused(channel_client, channel, other_channel):
    response = channel_client.post(batches_url(channel), {"channel": other_channel.pk}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "channel_mismatch"
    assert not BatchRequest.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        ["commit", "done"],  # fetch and create orders; update orders
        ["commit", "commit", "done"],  # one commit per created order, then done
        ["commit", "sent_to_remote", "ongoing", "ongoing", "done"],  # asynchronous channel
        ["commit", "sent_to_remote", "done"],
        ["commit", "fail"],  # nothing fetched after the commit
        ["done"],  # nothing to do
        ["fail"],  # a command failed before anything was committed
        ["initialized", "commit", "done"],
    ],
    ids="->".join,
)
def test_every_forward_path_channel_app_uses(channel_client, channel, path):
    batch = BatchRequestFactory(channel=channel)

    for status in path:
        response = channel_client.patch(
            batches_url(channel, batch.pk), {"channel": channel.pk, "status": status}, format="json"
        )
        assert response.status_code == 200, (status, response.content)
        assert response.json()["status"] == status

    batch.refresh_from_db()
    assert batch.status == path[-1]


def test_sent_to_remote_keeps_the_remote_batch_id(channel_client, channel):
    batch = BatchRequestFactory(channel=channel, status="commit", content_type="order")

    response = channel_client.patch(
        batches_url(channel, batch.pk),
        {"channel": channel.pk, "remote_batch_id": "RB-1", "status": "sent_to_remote"},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["remote_batch_id"], response.json()["content_type"]) == ("RB-1", "order")


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("commit", "initialized"),
        ("sent_to_remote", "commit"),
        ("ongoing", "sent_to_remote"),
        ("ongoing", "initialized"),
        ("done", "done"),
        ("done", "fail"),
        ("done", "commit"),
        ("fail", "fail"),
        ("fail", "done"),
        ("fail", "ongoing"),
    ],
)
def test_backwards_or_out_of_a_final_status_is_400_and_changes_nothing(channel_client, channel, current, target):
    # given
    order = order_with_items(channel=channel)
    batch = BatchRequestFactory(channel=channel, status=current, batch_objects=[], remote_batch_id="RB-1")
    before = snapshot(batch)
    body = {
        "status": target,
        "remote_batch_id": "RB-2",
        "content_type": "order",
        "objects": [{"pk": order.pk, "content_type": "order", "version_date": None, "remote_id": "R9"}],
    }

    # when
    response = channel_client.patch(batches_url(channel, batch.pk), body, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "batch_transition_invalid"
    assert snapshot(batch) == before
    assert not IntegrationAction.objects.exists()


def test_patch_of_a_final_batch_without_a_status_is_refused(channel_client, channel):
    batch = BatchRequestFactory(channel=channel, status="done")

    response = channel_client.patch(batches_url(channel, batch.pk), {"remote_batch_id": "RB-2"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "batch_transition_invalid"


@pytest.mark.parametrize("body", [{"status": "finished"}, {"objects": [{"content_type": "order"}]}, {"objects": 5}])
def test_invalid_batch_input_is_400(channel_client, channel, body):
    batch = BatchRequestFactory(channel=channel)

    response = channel_client.patch(batches_url(channel, batch.pk), body, format="json")

    assert response.status_code == 400
    assert snapshot(batch)["status"] == "initialized"


def test_another_channels_batch_request_is_404(channel_client, staff_client, channel, other_channel):
    foreign = BatchRequestFactory(channel=other_channel)

    assert channel_client.get(batches_url(channel, foreign.pk)).status_code == 404
    assert staff_client.patch(batches_url(channel, foreign.pk), {"status": "done"}, format="json").status_code == 404
    assert snapshot(foreign)["status"] == "initialized"


def test_batch_request_list_filters(channel_client, channel, other_channel):
    sent = BatchRequestFactory(channel=channel, status="sent_to_remote", content_type="order")
    ongoing = BatchRequestFactory(channel=channel, status="ongoing", content_type="order")
    BatchRequestFactory(channel=channel, status="ongoing", content_type="product")
    BatchRequestFactory(channel=channel, status="done", content_type="order")
    BatchRequestFactory(channel=other_channel, status="ongoing", content_type="order")

    # channel-app's GetBatchRequests: requests sends the status list as repeated parameters
    response = channel_client.get(
        f"{batches_url(channel)}?status=sent_to_remote&status=ongoing&content_type=order&channel={channel.pk}"
    )
    by_batch_id = channel_client.get(batches_url(channel), {"local_batch_id": str(ongoing.local_batch_id)})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [sent.pk, ongoing.pk]
    assert [row["id"] for row in by_batch_id.json()["results"]] == [ongoing.pk]
    assert channel_client.get(batches_url(channel), {"status": "finished"}).status_code == 400
    assert channel_client.get(batches_url(channel), {"content_type": "nope"}).status_code == 400


# Committing, failing, finishing


def test_commit_marks_the_objects_sent(channel_client, channel):
    # given
    order = order_with_items(channel=channel, lines=((Decimal("10.00"), 1), (Decimal("20.00"), 1)))
    items = list(order.items.order_by("id"))
    shown = channel_client.get(f"/api/channel/{channel.pk}/orders/{order.pk}/").json()

    # when: the order as the feed showed it, and its items without a version date
    committed = commit(
        channel_client,
        channel,
        [
            batch_object(shown, "order", remote_id="O-1"),
            {"pk": items[0].pk, "content_type": "orderitem", "remote_id": 77},
            {"pk": items[1].pk, "content_type": "orderitem", "remote_id": None},
        ],
    )

    # then
    assert (committed["status"], committed["content_type"], len(committed["objects"])) == ("commit", "order", 3)
    actions = {(a.content_type, a.object_id): a for a in IntegrationAction.objects.filter(channel=channel)}
    assert actions[("order", order.pk)].remote_id == "O-1"
    assert actions[("order", order.pk)].version_date == parse_datetime(shown["modified_date"])
    assert actions[("orderitem", items[0].pk)].remote_id == "77"
    assert actions[("orderitem", items[0].pk)].version_date == items[0].modified_date
    assert actions[("orderitem", items[1].pk)].remote_id is None


def test_a_later_commit_without_remote_id_keeps_it(channel_client, channel):
    order = order_with_items(channel=channel)
    shown = channel_client.get(f"/api/channel/{channel.pk}/orders/{order.pk}/").json()
    commit(channel_client, channel, [batch_object(shown, "order", remote_id="O-1")])

    commit(channel_client, channel, [batch_object(shown, "order", remote_id=None)])

    assert IntegrationAction.objects.get(channel=channel, content_type="order", object_id=order.pk).remote_id == "O-1"


def test_commit_of_unknown_or_foreign_objects_is_refused_and_writes_nothing(channel_client, channel, other_channel):
    # given
    mine = order_with_items(channel=channel)
    foreign = order_with_items(channel=other_channel)
    batch = BatchRequestFactory(channel=channel)
    objects = [
        {"pk": mine.pk, "content_type": "order", "remote_id": "O-1"},
        {"pk": foreign.pk, "content_type": "order"},
        {"pk": 999_999, "content_type": "orderitem"},
        {"pk": mine.pk, "content_type": "productprice"},
    ]

    # when
    response = channel_client.patch(
        batches_url(channel, batch.pk), {"status": "commit", "objects": objects}, format="json"
    )

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "batch_objects_invalid"
    assert sorted((o["content_type"], o["pk"]) for o in body["invalid_objects"]) == sorted(
        [("order", foreign.pk), ("orderitem", 999_999), ("productprice", mine.pk)]
    )
    assert snapshot(batch) == {"status": "initialized", "objects": [], "remote_batch_id": None, "content_type": ""}
    assert not IntegrationAction.objects.exists()


def test_a_commit_of_thousands_of_objects_is_written_in_batches(channel_client, channel):
    # given: what a product run commits (products are shared by every channel, so they need only exist)
    products = Product.objects.bulk_create(Product(sku=f"SKU-{n}", name=f"Product {n}") for n in range(3000))
    objects = [{"pk": p.pk, "content_type": "product", "remote_id": f"P-{p.pk}"} for p in products]
    batch = BatchRequestFactory(channel=channel)

    # when
    with CaptureQueriesContext(connection) as queries:
        response = channel_client.patch(
            batches_url(channel, batch.pk), {"status": "commit", "objects": objects}, format="json"
        )

    # then
    assert response.status_code == 200, response.content[:300]
    assert IntegrationAction.objects.filter(channel=channel, content_type="product").count() == 3000
    assert IntegrationAction.objects.get(object_id=products[-1].pk).remote_id == f"P-{products[-1].pk}"
    assert len(queries.captured_queries) < 50  # batches of the database's parameter limit, not one per object
    # and offering them again is one statement
    response = channel_client.patch(batches_url(channel, batch.pk), {"status": "fail"}, format="json")
    assert response.status_code == 200
    assert not IntegrationAction.objects.exclude(version_date=None).exists()


def test_fail_with_null_objects_offers_the_committed_objects_again(channel_client, channel):
    # given
    order = order_with_items(channel=channel)
    shown = feed(channel_client, channel)["results"]
    committed = commit(channel_client, channel, [batch_object(row, "order") for row in shown])
    assert feed_ids(channel_client, channel) == []

    # when: channel-app's check_run after a failed command
    response = channel_client.patch(
        batches_url(channel, committed["pk"]), {"channel": channel.pk, "objects": None, "status": "fail"}, format="json"
    )

    # then
    assert response.status_code == 200
    assert response.json()["objects"] == committed["objects"]
    assert IntegrationAction.objects.get(object_id=order.pk).version_date is None
    assert feed_ids(channel_client, channel) == [order.pk]


def test_done_offers_the_objects_that_failed_again(channel_client, channel):
    # given
    sent, failed = order_with_items(channel=channel), order_with_items(channel=channel)
    shown = {row["id"]: row for row in feed(channel_client, channel)["results"]}
    committed = commit(channel_client, channel, [batch_object(row, "order") for row in shown.values()])

    # when: ProcessOrderBatchRequests marks what the channel refused, then the batch is done
    objects = [
        batch_object(shown[sent.pk], "order", remote_id="O-1"),
        batch_object(shown[failed.pk], "order", failed_reason_type="remote"),
    ]
    response = channel_client.patch(
        batches_url(channel, committed["pk"]), {"objects": objects, "status": "done"}, format="json"
    )

    # then
    assert response.status_code == 200
    assert feed_ids(channel_client, channel) == [failed.pk]


def test_commit_of_a_failed_object_keeps_it_in_the_feed(channel_client, channel):
    order = order_with_items(channel=channel)
    shown = feed(channel_client, channel)["results"]

    commit(channel_client, channel, [batch_object(row, "order", failed_reason_type="mapping") for row in shown])

    assert feed_ids(channel_client, channel) == [order.pk]


# Feeds


def intake_body(number: str) -> dict:
    return {
        "number": number,
        "remote_id": f"{number}-R",
        "date_placed": "2026-11-01T10:30:00Z",
        "currency": "try",
        "amount": "150.00",
        "payment_option": "credit_card",
        "payment_reference": "TX-1",
        "customer": {"email": "ayse@example.com"},
        "items": [
            {"product": {"sku": "MUG", "name": "Mug"}, "quantity": 1, "price": "50.00", "tax_rate": "20.00"},
            {
                "product": {"sku": "CUP", "name": "Cup"},
                "quantity": 1,
                "price": "100.00",
                "tax_rate": "20.00",
                "extra_field": {"id": "LINE-2"},
            },
        ],
    }


def test_an_order_taken_over_is_not_offered_until_it_changes(channel_client, channel):
    # given: intake records what the channel handed over
    created = channel_client.post(f"/api/channel/{channel.pk}/orders/", intake_body("WEB-1"), format="json")
    assert created.status_code == 201, created.content
    order = created.json()
    first_item, second_item = order["items"]
    actions = {(a.content_type, a.object_id): a for a in IntegrationAction.objects.all()}
    assert actions[("order", order["id"])].remote_id == "WEB-1-R"
    assert actions[("order", order["id"])].version_date == parse_datetime(order["modified_date"])
    assert actions[("orderitem", second_item["id"])].remote_id == "LINE-2"
    assert actions[("orderitem", first_item["id"])].version_date == parse_datetime(first_item["modified_date"])
    assert feed_ids(channel_client, channel) == []

    # when: one of its items ships
    shipped = channel_client.patch(
        f"/api/channel/{channel.pk}/order_items/{second_item['id']}/", {"status": "500"}, format="json"
    )
    assert shipped.status_code == 200

    # then: offered, until a commit of the version shown
    shown = feed(channel_client, channel)["results"]
    assert [row["id"] for row in shown] == [order["id"]]
    assert shown[0]["items"][1]["status"] == "500"
    commit(channel_client, channel, [batch_object(row, "order") for row in shown])
    assert feed_ids(channel_client, channel) == []

    # and again once it changes again
    channel_client.patch(
        f"/api/channel/{channel.pk}/order_items/{second_item['id']}/", {"status": "550"}, format="json"
    )
    assert feed_ids(channel_client, channel) == [order["id"]]


def test_a_change_after_the_version_shown_is_not_lost(channel_client, channel):
    order = order_with_items(channel=channel)
    shown = feed(channel_client, channel)["results"]

    Order.objects.filter(pk=order.pk).update(modified_date=timezone.now() + timedelta(seconds=1))
    commit(channel_client, channel, [batch_object(row, "order") for row in shown])

    assert feed_ids(channel_client, channel) == [order.pk]


def test_the_feed_offers_the_channels_unsent_orders_oldest_first(channel_client, channel, other_channel):
    orders = [order_with_items(channel=channel) for _ in range(3)]
    order_with_items(channel=other_channel)
    IntegrationActionFactory(channel=channel, object_id=orders[1].pk, version_date=None)
    IntegrationActionFactory(channel=other_channel, object_id=orders[2].pk, version_date=timezone.now())

    assert feed_ids(channel_client, channel) == [order.pk for order in orders]


def test_the_feed_is_paginated_like_every_list(channel_client, channel):
    orders = [order_with_items(channel=channel) for _ in range(3)]

    first = feed(channel_client, channel, limit=2)
    second = feed(channel_client, channel, limit=2, page=2)

    assert first["count"] == 3
    assert [row["id"] for row in first["results"]] == [orders[0].pk, orders[1].pk]
    assert "page=2" in first["next"]
    assert [row["id"] for row in second["results"]] == [orders[2].pk]
    assert second["next"] is None
    assert set(first["results"][0]) == set(
        channel_client.get(f"/api/channel/{channel.pk}/orders/").json()["results"][0]
    )


def test_the_cancellation_request_feed(channel_client, staff_client, channel, other_channel):
    # given: a request the channel made, and one of another channel
    order = order_with_items(channel=channel)
    reason = CancellationReasonFactory(cancellation_type="cancel")
    created = channel_client.post(
        f"/api/channel/{channel.pk}/cancellation_requests/",
        {"order_item": order.items.get().pk, "reason": reason.pk, "cancellation_type": "cancel"},
        format="json",
    )
    assert created.status_code == 201, created.content
    request_id = created.json()["id"]
    CancellationRequestFactory(order_item=order_with_items(channel=other_channel).items.get())

    # then: offered as never sent, with the fields of the list
    shown = feed(channel_client, channel, "cancellation_requests")["results"]
    assert [row["id"] for row in shown] == [request_id]
    listed = channel_client.get(f"/api/channel/{channel.pk}/cancellation_requests/").json()["results"]
    assert shown == listed

    # when committed as channel-app's GetCancellationRequestUpdates does, it is gone
    commit(
        channel_client,
        channel,
        [batch_object(row, "cancellationrequest") for row in shown],
        content_type="cancellationrequest",
    )
    assert feed_ids(channel_client, channel, "cancellation_requests") == []

    # and back once the back office decides it
    rejected = staff_client.post(f"/api/channel/{channel.pk}/cancellation_requests/{request_id}/reject/")
    assert rejected.status_code == 200
    shown = feed(channel_client, channel, "cancellation_requests")["results"]
    assert [(row["id"], row["status"]) for row in shown] == [(request_id, "rejected")]


@pytest.mark.parametrize("kind", ["orders", "cancellation_requests"])
def test_feed_queries_do_not_grow_with_the_page(channel_client, channel, kind):
    # given
    reason = CancellationReasonFactory()
    for _ in range(4):
        order = order_with_items(channel=channel, lines=((Decimal("10.00"), 1), (Decimal("20.00"), 2)))
        for item in order.items.all():
            CancellationRequestFactory(order_item=item, reason=reason)
    url = f"/api/channel/{channel.pk}/{kind}/updates/"
    channel_client.get(url)

    # when
    with CaptureQueriesContext(connection) as one:
        small = channel_client.get(url, {"limit": 1})
    # (one row short of the feed: a page that holds the whole feed needs no count)
    almost_all = 3 if kind == "orders" else 7
    with CaptureQueriesContext(connection) as many:
        large = channel_client.get(url, {"limit": almost_all})

    # then
    assert len(small.json()["results"]) == 1
    assert len(large.json()["results"]) == almost_all
    assert len(one.captured_queries) == len(many.captured_queries)


# What channel-app does, request by request


def test_channel_app_update_orders_run(channel_client, channel):
    """OrderService.update_orders: GetOrders commits the feed's page, the channel answers synchronously and
    ProcessOrderBatchRequests commits again with the remote ids, then the batch is done."""
    # given
    orders = [order_with_items(channel=channel) for _ in range(2)]

    # GetOrders
    batch = channel_client.post(batches_url(channel), {"channel": channel.pk}, format="json").json()
    page = feed(channel_client, channel, limit=100)["results"]
    objects = [batch_object(row, "order") for row in page]
    body = {"channel": channel.pk, "objects": objects, "status": "commit", "content_type": "order"}
    assert channel_client.patch(batches_url(channel, batch["pk"]), body, format="json").status_code == 200

    # ProcessOrderBatchRequests: the remote ids the channel answered with, committed again
    objects = [batch_object(row, "order", remote_id=f"REMOTE-{row['pk']}") for row in page]
    body = {"channel": channel.pk, "objects": objects, "status": "commit", "content_type": "order"}
    assert channel_client.patch(batches_url(channel, batch["pk"]), body, format="json").status_code == 200
    done = channel_client.patch(
        batches_url(channel, batch["pk"]), {"channel": channel.pk, "objects": objects, "status": "done"}, format="json"
    )

    # then
    assert done.status_code == 200
    assert done.json()["status"] == BatchRequestStatus.DONE
    assert feed_ids(channel_client, channel) == []
    lookup = channel_client.get(
        actions_url(channel),
        {"channel": channel.pk, "content_type_name": "order", "remote_id__exact": f"REMOTE-{orders[1].pk}"},
    ).json()["results"]
    assert [row["object_id"] for row in lookup] == [orders[1].pk]
