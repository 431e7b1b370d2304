"""channel-app 0.0.161, Akinon's framework for sales-channel integrations, unmodified, against the service over HTTPS.

Each test runs one command of channel-app's `OmnitronIntegration` in a subprocess (see channel_app_driver.py): the
integration reads its channel, opens a batch request, runs the command and reports what it got. The orders come in
through the API with the channel's own ids (`remote_id` on the order and its lines), which is what the integration
actions channel-app looks objects up by are made of. The tests check both what channel-app got back and what the
service did: request rows, plans, item statuses, batch requests and integration actions.
"""

import pytest

from cancellations.models import CancellationPlan, CancellationPlanItem
from cancellations.models import CancellationRequest as CancellationRequestRow
from orders.models import Order, OrderItem
from refunds.models import Refund

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def orders(shop) -> dict[str, dict]:
    """Two orders as the channel hands them over, keyed by number; lines L-51 and L-52, then L-61."""
    return {
        "SO-5001": shop.intake("SO-5001", [("L-51", "SKU-51", "100.00", 1), ("L-52", "SKU-52", "40.00", 2)]),
        "SO-5002": shop.intake("SO-5002", [("L-61", "SKU-61", "75.00", 1)]),
    }


def item_ids(order: dict) -> list[int]:
    return [item["id"] for item in order["items"]]


def batch_request(shop, pk: int) -> dict:
    response = shop.http.get(f"api/v1/channel/{shop.channel_id}/batch_requests/{pk}/", headers=shop.staff)
    assert response.status_code == 200, response.text
    return response.json()


def integration_actions(shop, content_type: str, object_ids: list[int]) -> list[dict]:
    response = shop.http.get(
        f"api/v1/channel/{shop.channel_id}/integration_actions/",
        headers=shop.staff,
        params={"content_type_name": content_type, "object_id__in": ",".join(map(str, object_ids)), "limit": 100},
    )
    assert response.status_code == 200, response.text
    return sorted(response.json()["results"], key=lambda action: action["object_id"])


def request_over_api(shop, order_item: int, reason: str = "OUT_OF_STOCK") -> dict:
    response = shop.http.post(
        f"api/v1/channel/{shop.channel_id}/cancellation_requests/",
        headers=shop.staff,
        json={"order_item": order_item, "reason": shop.reasons[reason], "cancellation_type": "cancel"},
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_create_cancellation_request(shop, orders, channel_app):
    # given: the line the channel calls L-52 (two units), and a reason code the channel conf maps
    line = orders["SO-5001"]["items"][1]

    # when
    run = channel_app(
        "create_cancellation_requests",
        content_type="cancellationrequest",
        objects={
            "order_item": "L-52",
            "reason": "OUT_OF_STOCK",
            "remote_id": "CR-77",
            "description": "No stock left",
            "cancellation_type": "cancel",
        },
    )

    # then: channel-app got the request the service made
    assert run.errors == [], run.stderr
    [created] = run.result
    row = CancellationRequestRow.objects.get()
    assert (created["pk"], created["status"], created["order_item"], created["reason"], created["quantity"]) == (
        row.pk,
        "waiting",
        line["id"],
        shop.reasons["OUT_OF_STOCK"],
        2,
    )
    assert (row.status, row.order_item_id, row.reason_id, row.quantity, row.description) == (
        "waiting",
        line["id"],
        shop.reasons["OUT_OF_STOCK"],
        2,
        "No stock left",
    )
    assert OrderItem.objects.get(pk=line["id"]).cancel_status == "waiting"
    # ... and committed its batch request with the request in it, which marks the request as sent under the
    # channel's own id
    batch = batch_request(shop, run.batch_request["pk"])
    assert (batch["status"], batch["content_type"], batch["channel"]) == (
        "commit",
        "cancellationrequest",
        shop.channel_id,
    )
    assert [(entry["pk"], entry["remote_id"]) for entry in batch["objects"]] == [(row.pk, "CR-77")]
    [action] = integration_actions(shop, "cancellationrequest", [row.pk])
    assert (action["remote_id"], action["object_id"], action["content_type"]) == (
        "CR-77",
        row.pk,
        "cancellationrequest",
    )
    assert action["version_date"] is not None


def test_get_cancellation_requests(shop, orders, channel_app):
    waiting = request_over_api(shop, item_ids(orders["SO-5001"])[0])
    rejected = request_over_api(shop, item_ids(orders["SO-5002"])[0])
    reject = shop.http.post(
        f"api/v1/channel/{shop.channel_id}/cancellation_requests/{rejected['id']}/reject/", headers=shop.staff
    )
    assert reject.status_code == 200, reject.text

    run = channel_app("get_cancellation_requests", content_type="cancellationrequest", objects={"status": "waiting"})

    assert run.errors == [], run.stderr
    assert [(request["pk"], request["status"]) for request in run.result] == [(waiting["id"], "waiting")]
    batch = batch_request(shop, run.batch_request["pk"])
    assert (batch["status"], batch["content_type"]) == ("commit", "cancellationrequest")
    assert [entry["pk"] for entry in batch["objects"]] == [waiting["id"]]
    # reading changes nothing
    assert sorted(CancellationRequestRow.objects.values_list("pk", "status")) == sorted(
        [(waiting["id"], "waiting"), (rejected["id"], "rejected")]
    )


def test_get_cancellation_request_updates(shop, orders, channel_app):
    first = request_over_api(shop, item_ids(orders["SO-5001"])[0])
    second = request_over_api(shop, item_ids(orders["SO-5002"])[0])

    # when: channel-app reads the feed, commits its batch request; then reads it again
    run = channel_app("get_cancellation_requests_update", content_type="cancellationrequest", objects={})
    again = channel_app("get_cancellation_requests_update", content_type="cancellationrequest", objects={})

    # then: both requests, never sent before, came once
    assert run.errors == again.errors == [], run.stderr + again.stderr
    assert sorted(request["pk"] for request in run.result) == sorted([first["id"], second["id"]])
    assert again.result == []
    batch = batch_request(shop, run.batch_request["pk"])
    assert batch["status"] == "commit"
    assert sorted(entry["pk"] for entry in batch["objects"]) == sorted([first["id"], second["id"]])
    actions = integration_actions(shop, "cancellationrequest", [first["id"], second["id"]])
    assert [action["object_id"] for action in actions] == sorted([first["id"], second["id"]])
    assert all(action["version_date"] is not None for action in actions)

    # when: the back office rejects one, the feed has that one again, in its new state
    reject = shop.http.post(
        f"api/v1/channel/{shop.channel_id}/cancellation_requests/{second['id']}/reject/", headers=shop.staff
    )
    assert reject.status_code == 200, reject.text
    changed = channel_app("get_cancellation_requests_update", content_type="cancellationrequest", objects={})

    assert changed.errors == [], changed.stderr
    assert [(request["pk"], request["status"]) for request in changed.result] == [(second["id"], "rejected")]


def test_create_order_cancel(shop, orders, channel_app):
    # given: the channel cancels both lines of SO-5001, one with a mapped reason code, one with a code the conf does
    # not map (channel-app then takes the conf's cancellation_reason_id)
    order = orders["SO-5001"]
    first_line, second_line = item_ids(order)

    run = channel_app(
        "create_order_cancel",
        content_type="order",
        objects={
            "order": "R-SO-5001",
            "cancel_items": ["L-51", "L-52"],
            "reasons": {"L-51": "OUT_OF_STOCK", "L-52": "NOT_MAPPED"},
        },
    )

    # then: channel-app returns the cancel body it sent, with the service's ids
    assert run.errors == [], run.stderr
    assert run.result == [
        {
            "order": order["id"],
            "cancel_items": [first_line, second_line],
            "reasons": {str(first_line): shop.reasons["OUT_OF_STOCK"], str(second_line): shop.default_reason_id},
            "forced_refund_amount": None,
        }
    ]
    # ... and the service cancelled both lines and refunded the order in full
    plan = CancellationPlan.objects.get()
    assert (plan.order_id, plan.plan_type, plan.status) == (order["id"], "cancel", "completed")
    assert sorted(CancellationPlanItem.objects.values_list("order_item_id", "reason_id", "quantity")) == [
        (first_line, shop.reasons["OUT_OF_STOCK"], 1),
        (second_line, shop.default_reason_id, 2),
    ]
    assert sorted(OrderItem.objects.filter(order_id=order["id"]).values_list("status", "cancel_status")) == [
        ("100", "confirmed"),
        ("100", "confirmed"),
    ]
    assert Order.objects.get(pk=order["id"]).status == "100"
    assert [(refund.kind, refund.status, str(refund.amount)) for refund in Refund.objects.all()] == [
        ("items", "succeeded", "180.00")
    ]
    # the other order is untouched
    assert OrderItem.objects.get(pk=item_ids(orders["SO-5002"])[0]).status == "400"
    # channel-app leaves this command's batch request as it opened it
    assert batch_request(shop, run.batch_request["pk"])["status"] == "initialized"


def test_get_order_items(shop, orders, channel_app):
    order = orders["SO-5001"]

    run = channel_app("get_order_items", content_type="order", objects={"pk": order["id"]})

    assert run.errors == [], run.stderr
    assert [(item["pk"], item["status"], item["quantity"]) for item in run.result] == [
        (item_ids(order)[0], "400", 1),
        (item_ids(order)[1], "400", 2),
    ]
    # each item carries its integration action: the channel's own id for the line
    assert [
        (item["integration_action"]["object_id"], item["integration_action"]["remote_id"]) for item in run.result
    ] == [(item_ids(order)[0], "L-51"), (item_ids(order)[1], "L-52")]
    assert all(item["integration_action"]["content_type"] == "orderitem" for item in run.result)
    assert batch_request(shop, run.batch_request["pk"])["status"] == "initialized"
