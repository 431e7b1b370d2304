"""Done as a deployment runs it: gunicorn takes the cancel, a Celery worker on Redis calls the (loopback) store and
the (loopback) webhook receiver, PostgreSQL holds the outboxes."""

import json
from decimal import Decimal

import httpx
import pytest

from storefront.models import StorefrontSync
from tests.factories import CancellationReasonFactory, ChannelFactory, StaffUserFactory, TokenFactory, order_with_items
from tests.processes import Processes, database_url_for_subprocesses, free_port, log_containing, wait_for
from tests.webhooks.test_webhooks import SECRET, verify
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def processes(tmp_path):
    procs = Processes(
        tmp_path, {"DATABASE_URL": database_url_for_subprocesses(), "WEBHOOK_ALLOW_PRIVATE_HOSTS": "true"}
    )
    yield procs
    print(procs.stop_all())  # shown when the test failed


def test_a_cancel_reaches_the_store_once_and_every_event_a_signed_receiver(processes, httpserver):
    store_path = "/openapi/2022-01/orders/SHOP-77/cancel"
    httpserver.expect_request(store_path, method="POST").respond_with_json({"order": {"status": "cancelled"}})
    httpserver.expect_request("/hooks", method="POST").respond_with_data("ok")
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    processes.redis(port)
    base = processes.gunicorn({"CELERY_BROKER_URL": broker})
    processes.worker({"CELERY_BROKER_URL": broker})
    channel = ChannelFactory(
        channel_type="shoplaza",
        conf={"storefront": {"kind": "shoplazza", "base_url": httpserver.url_for("/"), "access_token": "tok"}},
    )
    webhook_create(
        channel=channel,
        url=httpserver.url_for("/hooks"),
        events=["order.cancelled", "cancellation_plan.created", "cancellation_plan.completed", "refund.succeeded"],
        secret=SECRET,
    )
    order = order_with_items(
        channel=channel,
        lines=[(Decimal("60.00"), 1), (Decimal("40.00"), 2)],
        shipping=Decimal("9.90"),
        remote_id="SHOP-77",
    )
    reason = CancellationReasonFactory(cancellation_type="cancel", subject="Out of stock")

    response = httpx.post(
        f"{base}/api/i1/orders/{order.pk}/cancel/",
        json={"is_all": True, "reasons": {str(item.pk): reason.pk for item in order.items.all()}},
        headers={"Authorization": f"Token {TokenFactory(user=StaffUserFactory()).key}"},
        timeout=30,
    )

    assert response.status_code == 200, response.text
    wait_for(
        lambda: (
            StorefrontSync.objects.filter(order=order, status="succeeded").exists()
            and WebhookDelivery.objects.filter(channel=channel).count() == 5
            and not WebhookDelivery.objects.filter(channel=channel).exclude(status="succeeded").exists()
        ),
        timeout=60,
        what="the store call and the five deliveries through the worker",
    )
    store_calls = [request for request, _ in httpserver.log if request.path == store_path]
    assert len(store_calls) == 1
    assert store_calls[0].headers["access-token"] == "tok"
    assert json.loads(store_calls[0].data) == {"reason": "Out of stock"}
    hooks = [request for request, _ in httpserver.log if request.path == "/hooks"]
    assert sorted(json.loads(r.data)["type"] for r in hooks) == [
        "cancellation_plan.completed",
        "cancellation_plan.created",
        "order.cancelled",
        "refund.succeeded",
        "refund.succeeded",
    ]
    assert all(verify(SECRET, r.data, r.headers["X-Omnitron-Signature"]) for r in hooks)
    # the sweeper finds nothing left to send: nothing goes twice
    assert "storefront_sync: sent 0 row(s)" in processes.manage("sweep_outboxes", env={"CELERY_BROKER_URL": broker})


def test_broker_down_at_commit_the_store_is_called_once_after_it_is_back(processes, httpserver):
    store_path = "/openapi/2022-01/orders/SHOP-78/cancel"
    httpserver.expect_request(store_path, method="POST").respond_with_json({"order": {"status": "cancelled"}})
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"  # nothing listens there yet: the broker is down
    base = processes.gunicorn({"CELERY_BROKER_URL": broker})
    channel = ChannelFactory(
        conf={"storefront": {"kind": "shoplazza", "base_url": httpserver.url_for("/"), "access_token": "tok"}}
    )
    order = order_with_items(channel=channel, lines=[(Decimal("10.00"), 1)], remote_id="SHOP-78")
    reason = CancellationReasonFactory(cancellation_type="cancel")

    response = httpx.post(
        f"{base}/api/i1/orders/{order.pk}/cancel/",
        json={"is_all": True, "reasons": {str(item.pk): reason.pk for item in order.items.all()}},
        headers={"Authorization": f"Token {TokenFactory(user=StaffUserFactory()).key}"},
        timeout=30,
    )

    assert response.status_code == 200, response.text
    sync = StorefrontSync.objects.get(order=order)
    assert (sync.status, sync.attempts) == ("pending", 0)
    # the message goes after the response: the broker is still down when gunicorn gives up on it
    gunicorn_log = processes.tmp_path / "gunicorn.log"
    wait_for(
        lambda: log_containing(gunicorn_log, "the sweeper will send it"),
        timeout=30,
        what="gunicorn to give up on the broker",
    )
    # the broker comes back; the sweeper (beat, or the command) sends what was left behind
    processes.redis(port)
    processes.worker({"CELERY_BROKER_URL": broker})
    swept = processes.manage("sweep_outboxes", env={"CELERY_BROKER_URL": broker})
    assert f"storefront_sync: sent 1 row(s): [{sync.pk}]" in swept
    wait_for(lambda: StorefrontSync.objects.get(pk=sync.pk).status == "succeeded", timeout=30, what="the swept sync")
    assert "storefront_sync: sent 0 row(s)" in processes.manage("sweep_outboxes", env={"CELERY_BROKER_URL": broker})
    assert len([request for request, _ in httpserver.log if request.path == store_path]) == 1
