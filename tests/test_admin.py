from decimal import Decimal
from functools import partial
from unittest import mock

import factory
import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertHTMLEqual

from cancellations.models import CancellationRequest
from channels.models import BatchRequest, IntegrationAction
from common.models import IdempotencyRecord
from orders.models import Order, OrderEventType, OrderItem, OrderStatus
from refunds.models import Refund
from tests import factories

APP_LABELS = ("channels", "orders", "cancellations", "refunds", "storefront", "webhooks")
REGISTERED_MODELS = sorted(
    (model for model in admin.site._registry if model._meta.app_label in APP_LABELS),
    key=lambda model: model._meta.label,
)


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def get_counting_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return response, len(queries.captured_queries)


def change_form_data(response) -> dict:
    """What the browser would post back unchanged: the editable fields and the inlines' management forms."""
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
        data.update({f"{row.prefix}-id": row.instance.pk for row in formset.initial_forms})
    return {name: "" if value is None else value for name, value in data.items()}


@pytest.fixture
def superuser_client(staff):
    client = Client()
    client.force_login(staff)
    return client


@pytest.mark.parametrize("app_label", APP_LABELS)
def test_every_model_is_registered(app_label):
    models = apps.get_app_config(app_label).get_models()

    unregistered = [model._meta.label for model in models if not admin.site.is_registered(model)]

    assert unregistered == []


@pytest.mark.django_db
@pytest.mark.parametrize("model", REGISTERED_MODELS, ids=lambda model: model._meta.label)
def test_admin_pages_load(superuser_client, staff, rf, model):
    # given
    row = getattr(factories, f"{model.__name__}Factory")()
    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = staff

    # when
    changelist = superuser_client.get(admin_url(model, "changelist"))
    search = superuser_client.get(admin_url(model, "changelist"), {"q": "something"})
    change = superuser_client.get(admin_url(model, "change", row.pk))
    add = superuser_client.get(admin_url(model, "add"))

    # then
    assert changelist.status_code == 200
    assert list(changelist.context["cl"].result_list) == [row]
    assert search.status_code == 200
    assert change.status_code == 200
    assert add.status_code == (200 if model_admin.has_add_permission(request) else 403)


@pytest.mark.django_db
def test_order_search_finds_by_number_or_customer_email(superuser_client):
    order, _other = factories.OrderFactory.create_batch(2)
    url = admin_url(Order, "changelist")

    by_number = superuser_client.get(url, {"q": order.number.lower()})
    by_email = superuser_client.get(url, {"q": order.customer.email.upper()})
    by_nothing = superuser_client.get(url, {"q": "no-such-order"})

    assert list(by_number.context["cl"].result_list) == [order]
    assert list(by_email.context["cl"].result_list) == [order]
    assert list(by_nothing.context["cl"].result_list) == []


@pytest.mark.django_db
def test_order_item_search_finds_by_order_number_or_sku(superuser_client):
    item, _other = factories.OrderItemFactory.create_batch(2)
    url = admin_url(OrderItem, "changelist")

    by_order = superuser_client.get(url, {"q": item.order.number})
    by_sku = superuser_client.get(url, {"q": item.product.sku})

    assert list(by_order.context["cl"].result_list) == [item]
    assert list(by_sku.context["cl"].result_list) == [item]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "create_rows"),
    [
        pytest.param(Order, factories.OrderFactory.create_batch, id="Order"),
        pytest.param(OrderItem, factories.OrderItemFactory.create_batch, id="OrderItem"),
        pytest.param(Refund, factories.RefundFactory.create_batch, id="Refund"),
        pytest.param(
            CancellationRequest,
            partial(
                factories.CancellationRequestFactory.create_batch,
                easy_return=factory.SubFactory(factories.EasyReturnFactory),
                cancellation_plan=factory.SubFactory(factories.CancellationPlanFactory),
            ),
            id="CancellationRequest",
        ),
    ],
)
def test_changelist_queries_do_not_grow_with_rows(superuser_client, model, create_rows):
    # given
    url = admin_url(model, "changelist")
    create_rows(3)
    superuser_client.get(url)  # the first request of a session also loads what later ones find cached

    # when
    few, few_queries = get_counting_queries(superuser_client, url)
    create_rows(27)
    many, many_queries = get_counting_queries(superuser_client, url)

    # then
    assert len(few.context["cl"].result_list) == 3
    assert len(many.context["cl"].result_list) == 30
    assert many_queries == few_queries


@pytest.mark.django_db
def test_order_change_page_shows_items_and_event_trail(superuser_client, staff):
    # given
    order = factories.order_with_items(lines=((Decimal("100.00"), 1), (Decimal("40.00"), 2)))
    factories.OrderEventFactory(order=order, type=OrderEventType.ORDER_CREATED)
    factories.OrderEventFactory(order=order, type=OrderEventType.CANCELLATION_PLANNED, actor=staff)
    factories.CancellationPlanFactory(order=order)

    # when
    response = superuser_client.get(admin_url(Order, "change", order.pk))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    for item in order.items.select_related("product"):
        assert item.product.sku in html
    assert html.index("Order created") < html.index("Cancellation planned")
    inlines = response.context["inline_admin_formsets"]
    assert {inline.formset.prefix for inline in inlines} == {"items", "events", "cancellation_plans"}
    assert not any(
        inline.has_add_permission or inline.has_change_permission or inline.has_delete_permission for inline in inlines
    )


@pytest.mark.django_db
def test_order_change_page_queries_do_not_grow_with_items(superuser_client, staff):
    small = factories.order_with_items(lines=((Decimal("10.00"), 1),))
    large = factories.order_with_items(lines=[(Decimal("10.00"), 1)] * 6)
    for order in (small, large):
        factories.OrderEventFactory.create_batch(3 if order is large else 1, order=order, actor=staff)
        factories.CancellationPlanFactory.create_batch(2 if order is large else 1, order=order, created_by=staff)
    superuser_client.get(admin_url(Order, "change", small.pk))

    _, small_queries = get_counting_queries(superuser_client, admin_url(Order, "change", small.pk))
    _, large_queries = get_counting_queries(superuser_client, admin_url(Order, "change", large.pk))

    assert large_queries == small_queries


@pytest.mark.django_db
def test_order_money_and_status_cannot_be_changed_in_admin(superuser_client):
    # given
    order = factories.order_with_items(lines=((Decimal("100.00"), 1),))
    url = admin_url(Order, "change", order.pk)
    page = superuser_client.get(url)
    data = change_form_data(page)
    data.update(amount="1.00", refund_amount="100.00", status=OrderStatus.CANCELLED, remote_id="REMOTE-1")

    # when
    response = superuser_client.post(url, data)

    # then
    assert {"amount", "refund_amount", "status", "cancel_status"}.isdisjoint(page.context["adminform"].form.fields)
    assert response.status_code == 302, response.context["adminform"].form.errors
    order.refresh_from_db()
    assert order.remote_id == "REMOTE-1"
    assert order.amount == Decimal("100.00")
    assert order.refund_amount == Decimal("0.00")
    assert order.status == OrderStatus.APPROVED


@pytest.mark.django_db
def test_refund_is_view_only(superuser_client):
    refund = factories.RefundFactory(amount=Decimal("100.00"))
    url = admin_url(Refund, "change", refund.pk)

    page = superuser_client.get(url)
    response = superuser_client.post(url, {"amount": "1.00", "status": "succeeded"})

    assert page.status_code == 200
    assert "Save" not in page.content.decode()
    assert response.status_code == 403
    refund.refresh_from_db()
    assert refund.amount == Decimal("100.00")
    assert refund.status == "pending"


def test_idempotency_records_are_listed_read_only(admin_client):
    from tests.factories import IdempotencyRecordFactory

    record = IdempotencyRecordFactory(key="cancel-coat-1")

    assert admin_client.get("/admin/common/idempotencyrecord/?q=cancel-coat-1").status_code == 200
    assert admin_client.get(f"/admin/common/idempotencyrecord/{record.pk}/change/").status_code == 200
    assert admin_client.get("/admin/common/idempotencyrecord/add/").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("model", REGISTERED_MODELS, ids=lambda model: model._meta.label)
def test_every_filter_choice_loads(superuser_client, model):
    getattr(factories, f"{model.__name__}Factory")()
    url = admin_url(model, "changelist")
    changelist = superuser_client.get(url).context["cl"]

    choices = [choice["query_string"] for spec in changelist.filter_specs for choice in spec.choices(changelist)]

    assert all(superuser_client.get(url + query).status_code == 200 for query in choices)


@pytest.mark.django_db
def test_a_count_past_the_limit_reads_as_more(superuser_client):
    factories.OrderFactory.create_batch(4)

    with (
        mock.patch("common.admin.EXACT_COUNT_LIMIT", 3),
        mock.patch.object(admin.site._registry[Order], "list_per_page", 2),
    ):
        response = superuser_client.get(admin_url(Order, "changelist"))

    changelist = response.context["cl"]
    assert changelist.result_count == 3
    assert changelist.paginator.num_pages == 2
    assert "3+ orders" in response.content.decode()


@pytest.mark.django_db
def test_the_action_checkbox_is_djangos_own(staff):
    cancellation_request = factories.CancellationRequestFactory()
    model_admin = admin.site._registry[CancellationRequest]

    ours = model_admin.action_checkbox(cancellation_request)
    djangos = admin.ModelAdmin.action_checkbox(model_admin, cancellation_request)

    assertHTMLEqual(ours, djangos)


@pytest.mark.django_db
def test_requests_filter_by_channel_status_type_and_plan_status(superuser_client, channel, other_channel):
    # given
    failed_plan = factories.CancellationPlanFactory(status="failed")
    waiting = factories.CancellationRequestFactory(order_item__order__channel=channel)
    rejected = factories.CancellationRequestFactory(
        order_item__order__channel=other_channel, status="rejected", cancellation_type="refund"
    )
    planned = factories.CancellationRequestFactory(
        order_item__order__channel=other_channel, status="approved", cancellation_plan=failed_plan
    )
    url = admin_url(CancellationRequest, "changelist")

    def listed(**params):
        return list(superuser_client.get(url, params).context["cl"].result_list)

    # then
    assert listed() == [planned, rejected, waiting]
    assert listed(channel__id__exact=channel.pk) == [waiting]
    assert listed(status__exact="rejected") == [rejected]
    assert listed(cancellation_type__exact="refund") == [rejected]
    assert listed(plan_status="failed") == [planned]
    assert listed(plan_status="completed") == []


@pytest.mark.django_db
def test_a_request_search_lists_the_matches_newest_first(superuser_client):
    older = factories.CancellationRequestFactory()
    newer = factories.CancellationRequestFactory(order_item=older.order_item, status="rejected")
    factories.CancellationRequestFactory()

    response = superuser_client.get(admin_url(CancellationRequest, "changelist"), {"q": older.order_item.order.number})

    assert list(response.context["cl"].result_list) == [newer, older]


@pytest.mark.django_db
def test_integration_actions_found_by_remote_id_or_object_id_and_filtered_by_type(superuser_client):
    action = factories.IntegrationActionFactory(remote_id="REMOTE-77", object_id=77)
    other = factories.IntegrationActionFactory(content_type="orderitem")
    url = admin_url(IntegrationAction, "changelist")

    def listed(**params):
        return list(superuser_client.get(url, params).context["cl"].result_list)

    assert listed(q="REMOTE-77") == [action]
    assert listed(q="77") == [action]
    assert listed(q=str(2**64)) == []
    assert listed(content_type="orderitem") == [other]


@pytest.mark.django_db
def test_batch_requests_found_by_local_batch_id_and_filtered_by_status(superuser_client):
    batch = factories.BatchRequestFactory(status="done")
    factories.BatchRequestFactory()
    url = admin_url(BatchRequest, "changelist")

    def listed(**params):
        return list(superuser_client.get(url, params).context["cl"].result_list)

    assert listed(q=str(batch.local_batch_id)) == [batch]
    assert listed(q="not-a-uuid") == []
    assert listed(status="done") == [batch]


@pytest.mark.django_db
def test_idempotency_records_found_by_exact_key_and_filtered_by_response_class(superuser_client):
    refused = factories.IdempotencyRecordFactory(key="cancel-coat-1", response_status=409)
    factories.IdempotencyRecordFactory(key="cancel-coat-2", response_status=201)
    url = admin_url(IdempotencyRecord, "changelist")

    def listed(**params):
        return list(superuser_client.get(url, params).context["cl"].result_list)

    assert listed(q="cancel-coat-1") == [refused]
    assert listed(q="CANCEL-COAT-1") == []
    assert listed(response="4xx") == [refused]
