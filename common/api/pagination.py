import json
from functools import cached_property

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connections
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from common.api.query import refuse_repeated_or_empty

# Up to this many rows a list counts exactly; past it, the count is the planner's estimate.
EXACT_COUNT_LIMIT = 10_000
# A planner's estimate above this many rows is taken without counting at all: even a capped COUNT would read
# EXACT_COUNT_LIMIT rows through the list's joins, and an estimate this far above the limit is not wrong about
# the list being long.
TRUSTED_ESTIMATE = 5 * EXACT_COUNT_LIMIT
# Pages after this one select their ids on the narrowest query first (see CappedCountPaginator). By page number,
# not offset, so a page costs the same queries whatever its size.
SHALLOW_PAGES = 10
# The highest page number taken: its rows start at an offset a bigint holds at any page size (PostgreSQL refuses a
# larger OFFSET), and far beyond any list this service holds.
MAX_PAGE = 10**15


def estimated_count(queryset) -> int | None:
    """The planner's estimate of how many rows the query returns (PostgreSQL), or None where there is none."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    try:
        sql, params = queryset.values("pk").order_by().query.sql_with_params()
    except EmptyResultSet:  # a filter no row can match (an empty IN list)
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def page_ids_and_count(queryset, page_number: int, per_page: int, cap: int) -> tuple[list, int]:
    """The ids of page `page_number` of the ordered queryset, and how many rows it has, counted up to cap + 1, in
    one query: the window's count reads the first cap + 1 rows in the list's order (as a capped COUNT would), and the
    page is cut from the same rows. A page past them has no ids (count 0)."""
    if page_number < 1 or (page_number - 1) * per_page > cap:
        return [], 0
    capped = queryset.values_list("pk", flat=True)[: cap + 1]
    try:
        sql, params = capped.query.sql_with_params()
    except EmptyResultSet:  # a filter no row can match (an empty IN list)
        return [], 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            f"SELECT *, COUNT(*) OVER () FROM ({sql}) capped LIMIT %s OFFSET %s",
            [*params, per_page, (page_number - 1) * per_page],
        )
        rows = cursor.fetchall()
    return [row[0] for row in rows], rows[0][-1] if rows else 0


def ids_of(queryset):
    """A list's rows as their ids alone (`LimitPagePagination.read_rows`): the page's ids come with its count."""
    return queryset.values_list("pk", flat=True)


def _ids_alone(queryset) -> bool:
    """The queryset reads its rows' ids and nothing else (`.only("pk")`, no join): its page is already the narrowest
    query, and a deep page gains nothing from selecting its ids first."""
    names, deferred = queryset.query.deferred_loading
    pk = queryset.model._meta.pk.name
    return not deferred and bool(names) and set(names) <= {"pk", pk} and not queryset.query.select_related


def _as_they_are(queryset):
    return queryset


class ProbedPage(Page):
    """A page that knows whether rows follow it: its query asked for one row more than the page holds."""

    def __init__(self, object_list, number, paginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self):
        return self.more


class CappedCountPaginator(Paginator):
    """A paginator that never scans a large result to count it, and fetches a page in as few queries as it can.

    - A page is read first, with one row more than it holds: that row says whether a next page exists, so `next`
      is right even where the count is an estimate. A first page that is not full is the whole list: its length
      is the count, and no count query runs.
    - `count` otherwise: the planner's estimate when it is far above EXACT_COUNT_LIMIT (`count_is_estimate`);
      else exact while the query has at most EXACT_COUNT_LIMIT rows (a COUNT over a LIMIT subquery, which stops
      early); past that, the estimate again (never below the rows seen). Without a planner (SQLite), exact.
    - A deep page (after SHALLOW_PAGES) selects the ids of its rows first on the narrowest query (the filters and
      the ordering, none of the joins `select_related` adds), then only those rows with their joins: skipped rows
      never go through the joins.
    """

    count_is_estimate = False
    # How a page's rows are read from the list's queryset when not as its model instances (e.g. as `.values()`,
    # common.api.rows); the count and a deep page's ids are read from the queryset itself, without the joins the
    # rows may add.
    read_rows = None
    # Rows known to exist: those before the page and on it (a lower bound for an estimate).
    _rows_seen = 0

    @cached_property
    def _estimate(self) -> int | None:
        return estimated_count(self.object_list)

    @cached_property
    def count(self):
        object_list = self.object_list
        if not hasattr(object_list, "query"):
            return len(object_list)
        estimate = self._estimate
        if estimate is not None and estimate > TRUSTED_ESTIMATE:
            self.count_is_estimate = True
            return max(estimate, self._rows_seen)
        return self._count_past(object_list.order_by()[: EXACT_COUNT_LIMIT + 1].count())

    def _count_past(self, capped: int) -> int:
        """The count, given the rows counted up to EXACT_COUNT_LIMIT + 1 (`capped`): exact up to the limit; past it
        the estimate (never below the rows counted or seen), or a full count where there is no estimate."""
        if capped <= EXACT_COUNT_LIMIT:
            return capped
        if self._estimate is None:
            return self.object_list.count()
        self.count_is_estimate = True
        return max(self._estimate, capped, self._rows_seen)

    def page(self, number):
        object_list = self.object_list
        if not hasattr(object_list, "query"):
            return super().page(number)
        number = self._validate_positive(number)
        bottom = (number - 1) * self.per_page
        if self.read_rows is ids_of:  # the page is its ids: they come with the count
            page = self._ids_with_count(number, bottom)
            if page is not None:
                return page
        rows = self._rows(object_list, bottom, bottom + self.per_page + 1, deep=number > SHALLOW_PAGES)
        more = len(rows) > self.per_page
        rows = rows[: self.per_page]
        self._rows_seen = bottom + len(rows)
        if rows and not more:
            # The last page: the count is known without counting.
            self.__dict__["count"] = bottom + len(rows)
        elif not rows:
            if number == 1:
                self.__dict__["count"] = 0
            elif not self.count_is_estimate_after_counting():
                # Past the end of an exact count: Django's "That page contains no results".
                return super().page(number)
        return ProbedPage(rows, number, self, more=more)

    def _ids_with_count(self, number: int, bottom: int) -> ProbedPage | None:
        """A page of ids and the list's count in one query (`page_ids_and_count`), where the count would be counted:
        a list the planner does not trust to be long. None where the ordinary page applies: a long list (its count
        is the estimate), a page past the counted rows."""
        estimate = self._estimate
        if estimate is not None and estimate > TRUSTED_ESTIMATE:
            return None
        ids, counted = page_ids_and_count(self.object_list, number, self.per_page, EXACT_COUNT_LIMIT)
        if not ids and number > 1:
            return None
        self._rows_seen = bottom + len(ids)
        self.__dict__["count"] = self._count_past(counted)
        return ProbedPage(ids, number, self, more=bottom + len(ids) < counted)

    def count_is_estimate_after_counting(self) -> bool:
        self.count  # noqa: B018 - counting decides whether the count is an estimate
        return self.count_is_estimate

    def _rows(self, object_list, bottom: int, top: int, *, deep: bool) -> list:
        read_rows = self.read_rows or _as_they_are
        if not deep or _ids_alone(object_list):
            return list(read_rows(object_list)[bottom:top])
        ids = list(object_list.values_list("pk", flat=True)[bottom:top])
        rows = read_rows(object_list.filter(pk__in=ids).order_by())
        # A row is a model instance, or a dict of `.values()` that carries its key as "pk" (common.api.rows).
        by_id = {row["pk"] if isinstance(row, dict) else row.pk: row for row in rows}
        return [by_id[pk] for pk in ids if pk in by_id]

    def validate_number(self, number):
        # With an estimated count, a page past the estimate may still hold rows: it is checked by fetching it.
        self.count  # noqa: B018 - counting decides whether the count is an estimate
        if self.count_is_estimate:
            return self._validate_positive(number)
        return super().validate_number(number)

    def _validate_positive(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            number = 0
        return max(number, 1)


class LimitPagePagination(PageNumberPagination):
    """`?limit=` (default 10, at most 100) and `?page=` (from 1), as Omnitron's list endpoints take them."""

    page_size = 10
    page_size_query_param = "limit"
    max_page_size = 100
    # CappedCountPaginator.read_rows of the pages this pagination makes (set by the view before it paginates).
    read_rows = None

    def django_paginator_class(self, queryset, per_page) -> CappedCountPaginator:
        """The paginator of a page (DRF makes it through this name)."""
        paginator = CappedCountPaginator(queryset, per_page)
        paginator.read_rows = self.read_rows
        return paginator

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            limit = int(raw)
        except ValueError:
            raise ValidationError({"limit": ["A whole number from 1 to 100 is required."]}) from None
        if limit < 1:
            raise ValidationError({"limit": ["A whole number from 1 to 100 is required."]})
        return min(limit, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        refuse_repeated_or_empty(request.query_params, (self.page_query_param, self.page_size_query_param))
        raw = request.query_params.get(self.page_query_param)
        if raw not in (None, "last"):
            try:
                valid = 1 <= int(raw) <= MAX_PAGE
            except ValueError:
                valid = False
            if not valid:
                raise ValidationError({"page": [f"A whole number from 1 to {MAX_PAGE} is required."]})
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        body = {
            "count": self.page.paginator.count,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        }
        if self.page.paginator.count_is_estimate:
            body["count_is_estimate"] = True
        return Response(body)

    def get_schema_operation_parameters(self, view):
        """`limit` and `page` as they are checked: whole numbers from 1 (`limit` above 100 is capped, not refused)."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 1}
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 1, "maximum": MAX_PAGE}
        return parameters

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count_is_estimate"] = {
            "type": "boolean",
            "description": f"Present (true) when `count` is the planner's estimate: above {EXACT_COUNT_LIMIT} rows.",
        }
        return response
