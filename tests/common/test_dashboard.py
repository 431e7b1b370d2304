import re
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cancellations.models import CancellationPlan, CancellationRequest
from common import dashboard
from common.dashboard import DashboardCard, dashboard_card
from refunds.models import BankTransfer, Refund
from storefront.models import StorefrontSync
from tests.factories import (
    BankTransferFactory,
    CancellationPlanFactory,
    CancellationRequestFactory,
    ChannelFactory,
    RefundFactory,
    StorefrontSyncFactory,
    UserFactory,
    WebhookDeliveryFactory,
)
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db


def cards(client) -> dict:
    response = client.get("/admin/")
    assert response.status_code == 200
    return {card["key"]: card for card in response.context["cards"]}


def test_the_index_counts_what_needs_someone_and_links_to_those_rows(admin_client):
    # given
    old = CancellationRequestFactory()
    CancellationRequest.objects.filter(pk=old.pk).update(created_date=timezone.now() - timedelta(days=2, hours=3))
    CancellationRequestFactory(channel=ChannelFactory())  # another channel's, newer
    CancellationRequestFactory(status="rejected")
    CancellationPlanFactory(status="failed")
    RefundFactory(status="failed", last_error="declined")
    RefundFactory(status="processing", leased_until=timezone.now() - timedelta(minutes=5))
    RefundFactory(status="processing", leased_until=timezone.now() + timedelta(minutes=5))  # a worker holds it
    BankTransferFactory(status="pending")
    BankTransferFactory(status="exported")

    # when
    shown = cards(admin_client)

    # then
    assert {key: int(card["count"]) for key, card in shown.items()}.items() >= {
        "requests_waiting": 2,
        "plans_failed": 1,
        "refunds_failed": 1,
        "refunds_stuck": 1,
        "transfers_to_export": 1,
    }.items()
    assert shown["requests_waiting"]["detail"] == "oldest waiting 2\xa0days, 3\xa0hours"
    assert shown["refunds_stuck"]["detail"].startswith("lease ran out 5\xa0minutes")
    for key, card in shown.items():
        listing = admin_client.get(card["url"])
        assert listing.status_code == 200, key
        assert listing.context["cl"].result_count == int(card["count"]), key


def test_the_counts_stop_at_the_cap(admin_client, monkeypatch):
    monkeypatch.setattr(dashboard, "DASHBOARD_COUNT_CAP", 2)
    CancellationRequestFactory.create_batch(3)

    card = cards(admin_client)["requests_waiting"]
    page = admin_client.get("/admin/").content.decode()

    assert str(card["count"]) == "2+"
    assert '<span class="ops-count">2+</span>' in page


def test_the_index_queries_do_not_grow_with_the_rows(admin_client):
    CancellationRequestFactory()
    admin_client.get("/admin/")
    with CaptureQueriesContext(connection) as few:
        admin_client.get("/admin/")
    CancellationRequestFactory.create_batch(5, channel=ChannelFactory())
    RefundFactory.create_batch(3, status="failed")
    with CaptureQueriesContext(connection) as many:
        admin_client.get("/admin/")

    assert len(many) == len(few)


def test_an_app_adds_a_card(admin_client):
    card = DashboardCard(
        key="test_channels_inactive",
        title="Channels switched off",
        model=ChannelFactory._meta.model,
        rows=lambda: ChannelFactory._meta.model.objects.filter(is_active=False),
        changelist_query="is_active__exact=0",
    )
    dashboard_card(card)
    try:
        ChannelFactory(is_active=False)
        shown = cards(admin_client)["test_channels_inactive"]
    finally:
        dashboard._cards.pop(card.key)

    assert int(shown["count"]) == 1
    assert shown["url"] == "/admin/channels/channel/?is_active__exact=0"


def test_a_user_sees_only_the_cards_of_what_they_may_view(client):
    user = UserFactory(is_staff=True)
    client.force_login(user)

    response = client.get("/admin/")

    assert response.status_code == 200
    assert response.context["cards"] == []


def test_a_card_of_a_model_without_admin_pages_is_left_out(admin_client):
    dashboard_card(
        DashboardCard(
            key="test_unlisted", title="Unlisted", model=ContentType, rows=ContentType.objects.all, changelist_query=""
        )
    )
    try:
        shown = cards(admin_client)
    finally:
        dashboard._cards.pop("test_unlisted")

    assert "test_unlisted" not in shown
    assert "requests_waiting" in shown


@pytest.mark.postgres
def test_an_index_serves_every_dashboard_count(admin_client):
    # given: a few rows of each, and sequential scans forbidden, to see which query no index could serve
    CancellationRequestFactory.create_batch(3)
    CancellationPlanFactory.create_batch(2, status="failed")
    RefundFactory.create_batch(2, status="processing", leased_until=timezone.now() - timedelta(minutes=1))
    BankTransferFactory.create_batch(2)
    StorefrontSyncFactory.create_batch(2)
    WebhookDeliveryFactory.create_batch(2)
    watched = (CancellationRequest, CancellationPlan, Refund, BankTransfer, StorefrontSync, WebhookDelivery)
    big_tables = {model._meta.db_table for model in watched}
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SET LOCAL enable_seqscan = off")

    # when
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get("/admin/").status_code == 200

    # then
    unserved = []
    for query in queries.captured_queries:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {query['sql']}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        scanned = sorted(table for table in big_tables if re.search(rf"Seq Scan on {table}\b", plan))
        if scanned:
            unserved.append(f"{query['sql']}\n{plan}")
    assert not unserved, "\n\n".join(unserved)


def test_failed_storefront_syncs_and_webhook_deliveries_have_their_cards(admin_client):
    StorefrontSyncFactory(status="failed")
    StorefrontSyncFactory(status="succeeded")
    WebhookDeliveryFactory(status="failed")
    WebhookDeliveryFactory(status="pending")

    shown = cards(admin_client)

    for key in ("storefront_syncs_failed", "webhook_deliveries_failed"):
        assert int(shown[key]["count"]) == 1, key
        listing = admin_client.get(shown[key]["url"])
        assert listing.status_code == 200, key
        assert listing.context["cl"].result_count == 1, key
