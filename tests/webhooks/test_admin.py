"""Admin screens of storefront syncs and webhooks: secrets never on a page, actions that say what happened."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from channels.models import Channel
from storefront.models import StorefrontSync
from tests import factories
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(staff):
    client = Client()
    client.force_login(staff)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_channel_page_hides_the_storefront_token_and_keeps_it_on_save(admin_client):
    conf = {
        "storefront": {"kind": "shoplazza", "base_url": "https://demo.myshoplaza.com", "access_token": "tok-secret"}
    }
    channel = factories.ChannelFactory(conf=conf)
    url = reverse("admin:channels_channel_change", args=[channel.pk])

    page = admin_client.get(url)
    assert "tok-secret" not in page.content.decode()
    form = page.context["adminform"].form
    data = {"name": channel.name, "channel_type": channel.channel_type, "conf": form["conf"].value(), "is_active": "on"}
    assert admin_client.post(url, data).status_code == 302

    channel.refresh_from_db()
    assert channel.conf["storefront"]["access_token"] == "tok-secret"
    assert "access_token_set" not in channel.conf["storefront"]


def test_the_webhook_page_never_shows_the_secret_and_keeps_it_unless_a_new_one_is_typed(admin_client):
    webhook = factories.WebhookFactory(secret="whsec-the-old-secret")
    url = reverse("admin:webhooks_webhook_change", args=[webhook.pk])

    assert "whsec-the-old-secret" not in admin_client.get(url).content.decode()
    data = {"channel": webhook.channel_id, "url": webhook.url, "events": ["refund.failed"], "is_active": "on"}
    assert admin_client.post(url, {**data, "new_secret": ""}).status_code == 302
    webhook.refresh_from_db()
    assert webhook.secret == "whsec-the-old-secret"
    assert Channel.objects.get(pk=webhook.channel_id).webhook_events == ["refund.failed"]
    admin_client.post(url, {**data, "new_secret": "whsec-a-brand-new-one"})
    webhook.refresh_from_db()
    assert webhook.secret == "whsec-a-brand-new-one"


@pytest.mark.django_db(transaction=True)
def test_send_again_reports_what_happened(admin_client, httpserver):
    """Committed for real, as in production: without a broker the attempt runs on commit, before the message."""
    httpserver.expect_request("/openapi/2022-01/orders/633130-00000004/cancel").respond_with_json(
        {"error": "store is not active"}, status=403
    )
    channel = factories.ChannelFactory(
        conf={"storefront": {"kind": "shoplazza", "base_url": httpserver.url_for("/"), "access_token": "tok"}}
    )
    sync = factories.StorefrontSyncFactory(order=factories.OrderFactory(channel=channel))
    skipped = factories.StorefrontSyncFactory(status="skipped", last_error="A partial cancel")

    response = admin_client.post(
        reverse("admin:storefront_storefrontsync_changelist"),
        {"action": "send_again", "_selected_action": [sync.pk, skipped.pk]},
    )

    assert response.status_code == 302
    sync.refresh_from_db()
    assert (sync.status, sync.attempts) == ("failed", 2)
    assert messages_of(response) == [
        f"{sync.pk}: failed after attempt 2: HTTP 403: store is not active",
        f"{skipped.pk}: not sent again: Only a failed or pending sync can be retried; this one is skipped.",
    ]
    assert StorefrontSync.objects.get(pk=skipped.pk).status == "skipped"


def test_a_delivery_page_shows_its_attempts(admin_client):
    attempt = factories.WebhookAttemptFactory(response_excerpt="receiver said no")

    page = admin_client.get(reverse("admin:webhooks_webhookdelivery_change", args=[attempt.delivery_id]))

    assert page.status_code == 200
    assert "receiver said no" in page.content.decode()
    assert WebhookDelivery.objects.count() == Webhook.objects.count() == 1
