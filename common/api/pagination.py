import json
from functools import cached_property

from django.core.paginator import Paginator
from django.db import connections
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

# Up to this many rows a list counts exactly; past it, the count is the planner's estimate.
EXACT_COUNT_LIMIT = 10_000


def estimated_count(queryset) -> int | None:
    """The planner's estimate of how many rows the query returns (PostgreSQL), or None where there is none."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.values("pk").order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class CappedCountPaginator(Paginator):
    """A paginator that never scans a large result to count it, and fetches a page in two steps.

    - `count`: exact while the query has at most EXACT_COUNT_LIMIT rows (a COUNT over a LIMIT subquery, which
      stops early); past that, the planner's estimate (never below the limit), and `count_is_estimate` is true.
    - A page: the ids of its rows first, on the narrowest query (the filters and the ordering, none of the joins
      `select_related` adds), then only those rows with their joins; a deep page no longer drags every skipped row
      through every join.
    """

    count_is_estimate = False

    @cached_property
    def count(self):
        object_list = self.object_list
        if not hasattr(object_list, "query"):
            return len(object_list)
        capped = object_list.order_by()[: EXACT_COUNT_LIMIT + 1].count()
        if capped <= EXACT_COUNT_LIMIT:
            return capped
        estimate = estimated_count(object_list)
        if estimate is None:
            return object_list.count()
        self.count_is_estimate = True
        return max(estimate, capped)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        object_list = self.object_list
        if not hasattr(object_list, "query"):
            return self._get_page(object_list[bottom:top], number, self)
        ids = list(object_list.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in object_list.filter(pk__in=ids).order_by()}
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)

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
    django_paginator_class = CappedCountPaginator

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
        raw = request.query_params.get(self.page_query_param)
        if raw not in (None, "", "last"):
            try:
                valid = int(raw) >= 1
            except ValueError:
                valid = False
            if not valid:
                raise ValidationError({"page": ["A whole number from 1 is required."]})
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
            if parameter["name"] in (self.page_query_param, self.page_size_query_param):
                parameter["schema"] = {**parameter["schema"], "minimum": 1}
        return parameters

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count_is_estimate"] = {
            "type": "boolean",
            "description": f"Present (true) when `count` is the planner's estimate: above {EXACT_COUNT_LIMIT} rows.",
        }
        return response
