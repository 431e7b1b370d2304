"""The big tables' changelists render their rows with common.admin_rows: the same HTML as Django's own
`items_for_result`, cell for cell, whatever the columns are."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.html import format_html

from cancellations.models import CancellationPlan, CancellationRequest
from common.admin import LargeTableMixin
from common.admin_rows import ListedRowsFilter, _django_rows, page_rows, with_listed_rows
from tests import factories
from tests.test_admin_scale import CREATE_ROWS, changelist_url


@pytest.fixture
def superuser_client(client, staff):
    client.force_login(staff)
    return client


def assert_rows_as_django_renders_them(response):
    changelist = response.context["cl"]
    ours = page_rows(changelist)

    assert ours == _django_rows(changelist)
    assert len(ours) == len(changelist.result_list) > 0
    html = response.content.decode()
    for row in ours:
        assert row in html


@pytest.mark.django_db
# Every LargeTableMixin admin has rows to make there (tests/test_admin_scale.py holds it).
@pytest.mark.parametrize(
    "model", sorted(CREATE_ROWS, key=lambda model: model._meta.label), ids=lambda model: model._meta.label
)
def test_a_changelist_page_shows_the_rows_django_would_render(superuser_client, model):
    CREATE_ROWS[model](3)
    url = changelist_url(model)
    changelist = superuser_client.get(url).context["cl"]
    # Sorted by a column, and filtered (the change links carry the filters to preserve).
    sortable = [index for index, name in enumerate(changelist.list_display) if name in changelist.sortable_by]
    variants = [url] + [f"{url}?o=-{index}" for index in sortable[:1]]
    for spec in changelist.filter_specs[:1]:
        variants += [url + choice["query_string"] for choice in spec.choices(changelist)][:2]

    for variant in variants:
        response = superuser_client.get(variant)
        if response.context["cl"].result_list:
            assert_rows_as_django_renders_them(response)


def no_value(plan):
    return None


class OddColumnsPlanAdmin(LargeTableMixin, admin.ModelAdmin):
    """Every kind of column Django's changelist knows."""

    list_display = (
        "refund_invoice_number",
        "id",
        "__str__",
        "order",
        "created_by",
        "status",
        "plan_type",
        "forced_refund_amount",
        "is_cargo_refund",
        "created_date",
        "modified_date",
        "uuid",
        "attributes",
        "retried",
        "markup",
        "placed",
        "count",
        "nothing",
        no_value,
        lambda plan: f"<{plan.pk}>",
    )
    list_select_related = ("order", "created_by")

    @admin.display(boolean=True, description="Retried?")
    def retried(self, plan):
        return plan.is_cargo_refund or None

    @admin.display(description="Markup")
    def markup(self, plan):
        return format_html("<b>{}</b>", plan.refund_invoice_number or "none")

    @admin.display(description="Placed")
    def placed(self, plan):
        return plan.order.date_placed

    @admin.display(description="Count")
    def count(self, plan):
        return 1234567

    @admin.display(description="Nothing", empty_value="(none)")
    def nothing(self, plan):
        return "   "


@pytest.fixture
def odd_plans(db):
    moment = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)
    return [
        factories.CancellationPlanFactory(
            refund_invoice_number="<script>alert(1)</script> & co",
            status="failed",
            forced_refund_amount=Decimal("1234567.50"),
            is_cargo_refund=True,
            created_by=factories.UserFactory(),
            order__date_placed=moment,
        ),
        factories.CancellationPlanFactory(refund_invoice_number="   ", attributes={"a": [1, "ü"]}),
        factories.CancellationPlanFactory(refund_invoice_number=None, plan_type="refund", status="completed"),
    ]


def odd_changelist(staff, query="", **options):
    model_admin = OddColumnsPlanAdmin(CancellationPlan, admin.site)
    for name, value in options.items():
        setattr(model_admin, name, value)
    request = RequestFactory().get(f"/admin/cancellations/cancellationplan/{query}")
    request.user = staff
    return model_admin.get_changelist_instance(request)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "options",
    [{}, {"list_display_links": ("status", "order")}, {"list_display_links": None}],
    ids=["first-column-links", "chosen-links", "no-links"],
)
@pytest.mark.parametrize("language", ["en", "de", "tr"])
@pytest.mark.parametrize("is_grouped", [False, True], ids=["plain-numbers", "thousand-separators"])
def test_every_kind_of_column_renders_as_django_renders_it(staff, odd_plans, options, language, is_grouped, settings):
    settings.USE_THOUSAND_SEPARATOR = is_grouped
    with translation.override(language), timezone.override("Europe/Istanbul"):
        changelist = odd_changelist(staff, "?status__exact=failed&o=-9", **options)
        ours = page_rows(changelist)
        django = _django_rows(changelist)

    assert ours == django
    assert len(ours) == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in ours[0]
    assert ('<td class="field-count">1234567</td>' in ours[0]) is not is_grouped


@pytest.mark.django_db
def test_unfiltered_odd_columns_render_as_django_renders_them(staff, odd_plans):
    changelist = odd_changelist(staff)

    assert page_rows(changelist) == _django_rows(changelist)
    assert len(changelist.result_list) == 3


@pytest.mark.django_db
def test_a_popup_is_left_to_django(staff, odd_plans):
    changelist = odd_changelist(staff, "?_popup=1&_to_field=id")

    assert changelist.is_popup
    assert page_rows(changelist) == _django_rows(changelist)
    assert "data-popup-opener" in page_rows(changelist)[0]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "tr"])
def test_the_action_checkbox_is_djangos_own(odd_plans, language):
    model_admin = OddColumnsPlanAdmin(CancellationPlan, admin.site)

    with translation.override(language):
        for plan in odd_plans:
            assert model_admin.action_checkbox(plan) == admin.ModelAdmin.action_checkbox(model_admin, plan)


@pytest.mark.django_db
def test_the_count_and_the_page_come_from_one_query_and_match_djangos_pages(superuser_client):
    plans = factories.CancellationPlanFactory.create_batch(25)
    newest_first = [plan.pk for plan in sorted(plans, key=lambda plan: -plan.pk)]
    url = changelist_url(CancellationPlan)
    model_admin = admin.site._registry[CancellationPlan]

    with mock.patch.object(model_admin, "list_per_page", 10):
        pages = [superuser_client.get(f"{url}?p={number}") for number in (1, 2, 3)]
        past_the_end = superuser_client.get(f"{url}?p=4")
        with mock.patch("common.admin.EXACT_COUNT_LIMIT", 15):
            capped = superuser_client.get(url)
            past_the_cap = superuser_client.get(f"{url}?p=3")

    for number, page in enumerate(pages, start=1):
        assert [plan.pk for plan in page.context["cl"].result_list] == newest_first[(number - 1) * 10 : number * 10]
        assert page.context["cl"].result_count == 25
    assert past_the_end.status_code == 302
    assert past_the_end.url.endswith("?e=1")
    assert str(capped.context["cl"].result_count) == "15+"
    assert capped.context["cl"].paginator.num_pages == 2
    assert past_the_cap.status_code == 302


@pytest.mark.django_db
def test_a_small_tables_filter_lists_what_djangos_lists_and_serves_the_rows_it_listed(
    superuser_client, django_assert_num_queries
):
    CREATE_ROWS[CancellationRequest](3)
    changelist = superuser_client.get(changelist_url(CancellationRequest)).context["cl"]
    specs = {getattr(spec, "field_path", None): spec for spec in changelist.filter_specs}

    for name in ("channel", "reason"):
        spec = specs[name]
        assert isinstance(spec, ListedRowsFilter)
        assert spec.lookup_choices == spec.field.get_choices(include_blank=False)
        # Listed by their __str__: without their JSON documents.
        assert {"attributes", "localized_attributes"} <= spec.listed_rows[0].get_deferred_fields()
    with django_assert_num_queries(0):
        shown = [(row.channel.name, row.reason.subject) for row in changelist.result_list]
    assert shown == [(row.channel.name, row.reason.subject) for row in CancellationRequest.objects.order_by("-id")]


@pytest.mark.django_db
def test_a_related_row_the_filter_did_not_list_is_fetched_once_for_the_page(django_assert_num_queries):
    plans = factories.CancellationPlanFactory.create_batch(4)
    listed = {CancellationPlan._meta.get_field("channel"): {plans[0].channel_id: plans[0].channel}}

    with django_assert_num_queries(2):  # the plans, then the channels not listed
        rows = list(with_listed_rows(CancellationPlan.objects.order_by("id"), listed))
    with django_assert_num_queries(0):
        names = [row.channel.name for row in rows]

    assert names == [plan.channel.name for plan in plans]
    assert rows[0].channel is plans[0].channel


@pytest.mark.django_db
def test_a_page_loads_only_the_columns_its_admin_lists(superuser_client, django_assert_num_queries):
    # given: requests with their order item, order, product, easy return and plan
    requests = CREATE_ROWS[CancellationRequest](3)
    url = changelist_url(CancellationRequest)

    # when
    with CaptureQueriesContext(connection) as queries:
        response = superuser_client.get(url)

    # then: the page's query reads the order's number and currency as values (no order, item or product row is
    # built), not the order's money columns or JSON documents, nor the request's IBAN; and the rows render as Django
    # renders them, with nothing read row by row
    page_query = next(query["sql"] for query in queries if '"orders_order"."number"' in query["sql"])
    selected, _ = page_query.split(' FROM "cancellations_cancellationrequest"')
    assert '"orders_order"."currency"' in selected
    unread = ('"orders_order"."id"', '"orders_order"."amount"', '"orders_order"."attributes"', '"iban"')
    for column in unread:
        assert column not in selected
    with django_assert_num_queries(0):
        assert_rows_as_django_renders_them(response)
    html = response.content.decode()
    for request in requests:
        item = request.order_item
        value = f"{item.price * request.quantity:.2f} {item.order.currency.upper()}"
        assert f'<td class="field-value">{value}</td>' in html
        assert f'<td class="field-sku">{item.product.sku}</td>' in html
        assert f">{item.order.number}</a></th>" in html
