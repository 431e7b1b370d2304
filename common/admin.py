from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from common.admin_rows import action_checkbox, listed_rows_filter, page_queryset, page_results
from common.api.pagination import EXACT_COUNT_LIMIT, TRUSTED_ESTIMATE, estimated_count, page_ids_and_count
from common.compiled import prepared_statements
from common.models import IdempotencyRecord


class CappedCount(int):
    """A row count that stopped at its cap: there are more rows than that, and the page says so ("10000+")."""

    def __str__(self):
        return f"{int(self)}+"


class ChangeListPaginator(Paginator):
    """Counts the matching rows exactly up to EXACT_COUNT_LIMIT, as the API's lists do; past it the count reads
    "10000+" and the pages stop there.

    COUNT(*) reads every matching row, and a table of millions has hundreds of thousands behind a broad filter;
    counting at most one row past the limit reads no more than that. Unlike the API, no estimate past the limit: the
    changelist links its last pages, and a page a million rows deep is an OFFSET that walks them all. Ops narrow a
    long list with a filter or a search rather than page through it.

    Given the page the changelist shows (`page_number`), one query reads both the capped count and that page's ids
    (`page_ids`), where a count then a page would take two round trips. Where PostgreSQL's planner expects far more
    rows than the cap (TRUSTED_ESTIMATE, as the API's lists trust it), nothing is counted: the count reads "10000+".
    """

    def __init__(self, object_list, per_page, orphans=0, allow_empty_first_page=True, page_number=None):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.page_number = page_number
        self.page_ids = None  # the ids of page `page_number`, once the count has read them

    @cached_property
    def count(self):
        if self.page_number is not None and not self.orphans:
            estimate = estimated_count(self.object_list)
            if estimate is not None and estimate > TRUSTED_ESTIMATE:
                # The planner expects the list to be far past the cap: "10000+", without reading 10,001 rows to say
                # so (the page's ids are then read by the page's own query).
                return CappedCount(EXACT_COUNT_LIMIT)
            ids, counted = page_ids_and_count(self.object_list, self.page_number, self.per_page, EXACT_COUNT_LIMIT)
            if ids or self.page_number == 1:
                self.page_ids = ids
                return CappedCount(EXACT_COUNT_LIMIT) if counted > EXACT_COUNT_LIMIT else counted
        # A page past the last one: the count alone, and the changelist says the page does not exist.
        counted = self.object_list.order_by()[: EXACT_COUNT_LIMIT + 1].count()
        return CappedCount(EXACT_COUNT_LIMIT) if counted > EXACT_COUNT_LIMIT else counted


class PageByIdsChangeList(ChangeList):
    """Fetches a page in two steps: the ids of its rows, by a query with only the joins that the filters, the search
    and the ordering need; then those rows by primary key, with what `list_display` reads.

    One query that filters and orders and also joins every relation shown leaves PostgreSQL too many tables to order:
    past `join_collapse_limit` (8) it joins them as written, and a search's `id IN (...)` is applied only after the
    whole table has been joined. Even below it, choosing the join order costs more than running the query.
    """

    def get_results(self, request):
        super().get_results(request)
        page_ids = None
        if not self.show_all and (self.multi_page or self.page_num == 1):
            page_ids = getattr(self.paginator, "page_ids", None)
        if page_ids is None:
            page_ids = list(self.result_list.values_list("pk", flat=True))
        self.result_list = page_queryset(self, page_ids)

    @cached_property
    def page_results(self):
        """The page's headers and rows for admin/large_table/change_list_results.html."""
        return page_results(self)


class RenderedOnce:
    """A widget whose HTML for a name, value, attributes and choices is rendered once per process and language,
    then reused: a list's action form is the same on every page load, and rendering it through the form renderer's
    templates (an include per option) cost a millisecond a page."""

    rendered: dict = {}  # shared by every widget: bounded by RENDERED_LIMIT

    def render(self, name, value, attrs=None, renderer=None):
        choices = tuple((key, str(label)) for key, label in getattr(self, "choices", ()))
        key = (type(self), name, repr(value), repr(attrs), repr(self.attrs), choices, get_language(), renderer)
        html = self.rendered.get(key)
        if html is None:
            if len(self.rendered) >= RENDERED_LIMIT:
                self.rendered.clear()
            html = self.rendered[key] = super().render(name, value, attrs, renderer)
        return html


RENDERED_LIMIT = 256


class RenderedOnceSelect(RenderedOnce, forms.Select):
    pass


class RenderedOnceHiddenInput(RenderedOnce, forms.HiddenInput):
    pass


class ChangeListActionForm(ActionForm):
    """Django's action form (the same fields, labels and HTML), its widgets rendered once (`RenderedOnce`)."""

    action = forms.ChoiceField(label=_("Action:"), widget=RenderedOnceSelect)
    select_across = forms.BooleanField(
        label="", required=False, initial=0, widget=RenderedOnceHiddenInput({"class": "select-across"})
    )


class LargeTableMixin:
    """A changelist over millions of rows: an index serves each of its queries, and their number does not grow with
    the rows shown.

    The count is capped and the unfiltered total never counted; no facet counts; the page's rows are fetched by id
    (PageByIdsChangeList). Admins using it keep to:
    - list filters whose choices are fixed (TextChoices, booleans, DateFieldListFilter's ranges) or come from a small
      table (a plain foreign-key filter lists the channels or reasons); RelatedOnlyFieldListFilter, or a field without
      choices, gathers its choices with a DISTINCT over the whole big table;
    - no date_hierarchy, whose year links are another pass over the whole table on every page load: a date filter
      on an indexed column instead;
    - an ordering an index serves, and `sortable_by` only the columns an index can sort by (any other sort reads and
      sorts the whole table for one page);
    - every relation `list_display` reads in `list_select_related` (joined) or `list_prefetch_related` (one query by
      primary key each): a small table a page shows few rows of (channels, reasons) is cheaper prefetched, a row of
      its own per listed row (an item, a plan) cheaper joined than fetched by another round trip.
    Its rows are rendered by `common.admin_rows` (the same HTML as Django's, a fraction of the time): an admin that
    needs its own changelist template extends admin/large_table/change_list.html.
    """

    paginator = ChangeListPaginator
    action_form = ChangeListActionForm
    change_list_template = "admin/large_table/change_list.html"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_prefetch_related = ()
    # The fields the page's rows read, for QuerySet.only(): the columns, the fields the __str__ of the row (its
    # checkbox's label) and of each related row shown reads, and the foreign keys the list follows. Unset, a page
    # loads every column but the JSON documents and record fields (common.admin_rows.lean_rows). A field missed
    # here is read row by row, one query each: tests/test_admin_scale.py's pinned query counts catch it.
    list_only: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return PageByIdsChangeList

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # The page's rows, read now (the queryset keeps them) by a statement prepared once per connection: its text is
        # the same for every full page of the list, and its joins cost more to plan than to run.
        with prepared_statements():
            len(changelist.result_list)
        return changelist

    def get_list_filter(self, request):
        return [listed_rows_filter(self.model, spec) for spec in super().get_list_filter(request)]

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        if not issubclass(self.paginator, ChangeListPaginator):
            return super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)
        try:
            page_number = int(request.GET.get(PAGE_VAR, 1))
        except ValueError:
            page_number = None
        return self.paginator(queryset, per_page, orphans, allow_empty_first_page, page_number=page_number)

    def action_checkbox(self, obj):
        # Django's own markup, without a widget template rendered per row (a sixth of a 100-row page's time).
        return action_checkbox(obj)

    action_checkbox.is_common_checkbox = True  # common.admin_rows renders it with its label translated once a page


class ResponseClassFilter(admin.SimpleListFilter):
    """The class of the stored response; fixed choices, where a filter on the column would list its values with a
    DISTINCT over the whole table."""

    title = "response"
    parameter_name = "response"
    classes = {"2xx": ("Success (2xx)", 200), "4xx": ("Refused (4xx)", 400), "5xx": ("Failed (5xx)", 500)}

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _) in self.classes.items()]

    def queryset(self, request, queryset):
        if self.value() not in self.classes:
            return queryset
        _, lowest = self.classes[self.value()]
        return queryset.filter(response_status__gte=lowest, response_status__lt=lowest + 100)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(LargeTableMixin, admin.ModelAdmin):
    """What a client's Idempotency-Key replays; written by the API only, kept for a day."""

    list_display = ("key", "user", "state", "response_status", "created_date", "id")
    list_select_related = ("user",)
    # No index holds the state or the response status: a choice few records have reads them all (a day's worth).
    list_filter = ("state", ResponseClassFilter, "created_date")
    search_fields = ("key",)
    search_help_text = "An Idempotency-Key, exactly as the client sent it."
    ordering = ("-id",)
    sortable_by = ("created_date", "id")

    def get_search_results(self, request, queryset, search_term):
        # The key's only index is unique per user and starts with the user: naming every user lets it serve the key
        # alone (one probe per user) where a bare key lookup reads the whole table.
        key = search_term.strip()
        if not key:
            return queryset, False
        return queryset.filter(user__in=get_user_model().objects.values("pk"), key=key), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
