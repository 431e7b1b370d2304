"""The webhooks, webhook deliveries and storefront syncs endpoints of the back office."""

import json
from decimal import Decimal

import pytest

from channels.models import Channel
from storefront.models import StorefrontSync
from tests.factories import ChannelFactory, order_with_items
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

SECRET = "whsec-0123456789abcdef"


def create(client, owner, **overrides):
    body = {"channel": owner.pk, "url": "https://hooks.example.com/in", "events": ["order.cancelled"], "secret": SECRET}
    return client.post("/api/i1/webhooks/", {**body, **overrides}, format="json")


def test_a_subscription_is_created_its_secret_never_shown_and_the_channel_flag_follows(staff_client, channel):
    response = create(staff_client, channel, events=["order.cancelled", "refund.failed"])

    assert response.status_code == 201, response.json()
    body = response.json()
    assert "secret" not in body
    assert body["events"] == ["order.cancelled", "refund.failed"]
    assert Webhook.objects.get().secret == SECRET
    assert Channel.objects.get(pk=channel.pk).webhook_events == ["order.cancelled", "refund.failed"]
    assert "secret" not in staff_client.get(f"/api/i1/webhooks/{body['id']}/").json()

    response = staff_client.patch(f"/api/i1/webhooks/{body['id']}/", {"is_active": False}, format="json")
    assert response.status_code == 200
    assert Channel.objects.get(pk=channel.pk).webhook_events == []
    staff_client.patch(f"/api/i1/webhooks/{body['id']}/", {"is_active": True}, format="json")
    assert staff_client.delete(f"/api/i1/webhooks/{body['id']}/").status_code == 204
    assert Channel.objects.get(pk=channel.pk).webhook_events == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"url": "ftp://hooks.example.com/in"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"events": ["order.shipped"]}, "events"),
        ({"events": []}, "events"),
        ({"secret": "short"}, "secret"),
        ({"secret": None}, "secret"),
        ({"secret": "s" * 16 + "\x00"}, "secret"),
        ({"url": "https://hooks.example.com/\x00"}, "url"),
        ({"channel": 999999}, "channel"),
    ],
)
def test_bad_subscriptions_are_refused_naming_the_field(staff_client, channel, overrides, field):
    response = create(staff_client, channel, **overrides)

    assert response.status_code == 400
    assert field in response.json()
    assert not Webhook.objects.exists()
    assert Channel.objects.get(pk=channel.pk).webhook_events == []


def test_a_private_receiver_is_refused_when_private_hosts_are_not_allowed(staff_client, channel, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    for url in ("http://127.0.0.1:8000/in", "http://localhost/in", "http://10.1.2.3/in", "http://[::1]/in"):
        response = create(staff_client, channel, url=url)
        assert response.status_code == 400, url
        assert response.json()["code"] == "webhook_url_private"
    assert not Webhook.objects.exists()


def test_a_channel_user_may_not_manage_webhooks(channel_client, channel):
    assert create(channel_client, channel).status_code == 403
    assert channel_client.get("/api/i1/webhook_deliveries/").status_code == 403


def delivery(webhook, **kwargs):
    import uuid

    return WebhookDelivery.objects.create(
        webhook=webhook, channel=webhook.channel, event_id=uuid.uuid4(), body='{"id": "x"}', **kwargs
    )


def test_deliveries_are_listed_with_filters_and_their_attempt_log(staff_client, channel):
    webhook = Webhook.objects.create(
        channel=channel, url="https://h.example/", events=["order.cancelled"], secret=SECRET
    )
    failed = delivery(webhook, event_type="order.cancelled", status="failed", last_error="HTTP 500: boom")
    delivery(webhook, event_type="refund.failed", status="succeeded")

    response = staff_client.get("/api/i1/webhook_deliveries/", {"status": "failed", "event_type": "order.cancelled"})

    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["id"] == failed.pk
    assert row["payload"] == {"id": "x"}
    assert row["attempt_log"] == []
    assert staff_client.get("/api/i1/webhook_deliveries/", {"webhook": webhook.pk}).json()["count"] == 2


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/i1/webhook_deliveries/", {"status": "lost"}),
        ("/api/i1/webhook_deliveries/", {"event_type": "order.shipped"}),
        ("/api/i1/webhook_deliveries/", {"webhook": "abc"}),
        ("/api/i1/storefront_syncs/", {"status": "lost"}),
        ("/api/i1/storefront_syncs/", {"order_id": "0"}),
        ("/api/i1/storefront_syncs/", {"channel": "x"}),
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(staff_client, url, param):
    response = staff_client.get(url, param)

    assert response.status_code == 400
    assert set(param) <= set(response.json())


def test_redeliver_sends_the_same_event_again(staff_client, channel, httpserver, django_capture_on_commit_callbacks):
    httpserver.expect_request("/in").respond_with_data("ok")
    webhook = Webhook.objects.create(
        channel=channel, url=httpserver.url_for("/in"), events=["order.cancelled"], secret=SECRET
    )
    sent = delivery(webhook, event_type="order.cancelled", status="succeeded", attempts=1)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/api/i1/webhook_deliveries/{sent.pk}/redeliver/")

    assert response.status_code == 200
    sent.refresh_from_db()
    assert (sent.status, sent.attempts) == ("succeeded", 2)
    (request, _) = httpserver.log[0]
    assert request.headers["X-Omnitron-Event-Id"] == str(sent.event_id)
    assert json.loads(request.data) == {"id": "x"}


def test_a_delivery_being_sent_cannot_be_redelivered(staff_client, channel):
    webhook = Webhook.objects.create(
        channel=channel, url="https://h.example/", events=["order.cancelled"], secret=SECRET
    )
    busy = delivery(webhook, event_type="order.cancelled", status="processing")

    response = staff_client.post(f"/api/i1/webhook_deliveries/{busy.pk}/redeliver/")

    assert response.status_code == 400
    assert response.json()["code"] == "delivery_busy"
    busy.refresh_from_db()
    assert busy.status == "processing"


def test_storefront_syncs_are_listed_and_a_failed_one_retried(
    staff_client, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/openapi/2022-01/orders/R-9/cancel").respond_with_json({"order": {}})
    channel = ChannelFactory(
        conf={"storefront": {"kind": "shoplazza", "base_url": httpserver.url_for("/"), "access_token": "tok"}}
    )
    order = order_with_items(channel=channel, lines=[(Decimal("5.00"), 1)], remote_id="R-9")
    sync = StorefrontSync.objects.create(order=order, channel=channel, remote_id="R-9", status="failed", attempts=3)
    other = StorefrontSync.objects.create(order=order_with_items(), channel=ChannelFactory(), status="skipped")

    listed = staff_client.get("/api/i1/storefront_syncs/", {"channel": channel.pk}).json()
    assert [row["id"] for row in listed["results"]] == [sync.pk]
    assert listed["results"][0]["status"] == "failed"

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/api/i1/storefront_syncs/{sync.pk}/retry/")
    assert response.status_code == 200
    sync.refresh_from_db()
    assert (sync.status, sync.attempts) == ("succeeded", 4)

    refused = staff_client.post(f"/api/i1/storefront_syncs/{other.pk}/retry/")
    assert refused.status_code == 400
    assert refused.json()["code"] == "sync_not_retryable"


def test_the_storefront_token_is_write_only(staff_client, channel_client, channel):
    conf = {"storefront": {"kind": "shoplazza", "base_url": "https://demo.myshoplaza.com", "access_token": "tok-1"}}

    response = staff_client.patch(f"/api/i1/channels/{channel.pk}/", {"conf": conf}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["conf"]["storefront"] == {
        "kind": "shoplazza",
        "base_url": "https://demo.myshoplaza.com",
        "access_token_set": True,
    }
    assert "tok-1" not in channel_client.get(f"/api/i1/channels/{channel.pk}/").content.decode()
    # the conf sent back as shown keeps the token
    shown = response.json()["conf"]
    shown["storefront"]["api_version"] = "2024-07"
    assert staff_client.patch(f"/api/i1/channels/{channel.pk}/", {"conf": shown}, format="json").status_code == 200
    channel.refresh_from_db()
    assert channel.conf["storefront"] == {
        "kind": "shoplazza",
        "base_url": "https://demo.myshoplaza.com",
        "access_token": "tok-1",
        "api_version": "2024-07",
    }


@pytest.mark.parametrize(
    "storefront",
    [
        {"kind": "shopify", "base_url": "https://a.myshoplaza.com", "access_token": "t"},
        {"kind": "shoplazza", "base_url": "ftp://a.myshoplaza.com", "access_token": "t"},
        {"kind": "shoplazza", "base_url": "https://a.myshoplaza.com"},
        {"kind": "shoplazza", "base_url": "https://a.myshoplaza.com", "access_token": "t", "api_version": "latest"},
        "shoplazza",
    ],
)
def test_a_bad_storefront_is_refused_on_save(staff_client, channel, storefront):
    response = staff_client.patch(
        f"/api/i1/channels/{channel.pk}/", {"conf": {"storefront": storefront}}, format="json"
    )

    assert response.status_code == 400
    assert "conf" in response.json()
    channel.refresh_from_db()
    assert "storefront" not in channel.conf
