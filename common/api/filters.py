import copy
import functools
from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django import forms
from django.utils import timezone
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field

from common.api.query import refuse_repeated_or_empty

MAX_ID = 2**63 - 1
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


class _FilterCopies(dict):
    """A FilterSet class's filters. django-filter gives each of its instances (one a request) a deep copy of them,
    which walks every filter's choices, widgets and labels: a copy of each filter is enough, as each instance only
    sets its own `parent` and `model` on them and caches its own form field."""

    def __deepcopy__(self, memo):
        copies = {}
        for name, filter_ in self.items():
            copied = copy.copy(filter_)
            if getattr(filter_, "_method", None) is not None:
                copied.method = filter_._method  # its FilterMethod calls the copy's parent, not the class filter's
            copies[name] = copied
        return copies


class FilterSet(django_filters.FilterSet):
    """The service's FilterSet: django-filter's, its filters copied cheaply for each request (`_FilterCopies`)."""

    @classmethod
    def get_filters(cls):
        return _FilterCopies(super().get_filters())


class IdFormField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field(ID_SCHEMA)  # the schema says what the form field takes: a whole number from 1
class IdFilter(django_filters.NumberFilter):
    """An object id: a whole number a bigint can hold, or a 400 (the plain NumberFilter would take 1.5)."""

    field_class = IdFormField


class IdInFilter(django_filters.BaseInFilter, IdFilter):
    """`?pk__in=1,2,3`; a value that is not a whole number is a 400."""


@extend_schema_field({"type": "string", "format": "email"})
class EmailFilter(django_filters.CharFilter):
    """An e-mail address, compared case-insensitively; something that is not an address is a 400."""

    field_class = forms.EmailField


class DateOfDateTimeFilter(django_filters.DateFilter):
    """`?field__date__gt=2026-11-01` on a datetime column, turned into a range on the column itself
    (`>= 2026-11-02T00:00`), so the column's index serves it; `__date` would wrap the column in a cast."""

    def __init__(self, *args, bound: str, **kwargs):
        self.bound = bound
        super().__init__(*args, **kwargs)

    def range_of(self, value) -> tuple[str, datetime]:
        """The lookup and the moment on the column that select the days the bound names (current time zone)."""
        day_start = timezone.make_aware(datetime.combine(value, time.min))
        if value == date.max:  # no day follows the last one: it ends at the last moment there is
            last_moment = timezone.make_aware(datetime.max)
            after, up_to_end = ("gt", last_moment), ("lte", last_moment)
        else:
            next_day = day_start + timedelta(days=1)
            after, up_to_end = ("gte", next_day), ("lt", next_day)
        return {"gt": after, "gte": ("gte", day_start), "lt": ("lt", day_start), "lte": up_to_end}[self.bound]

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        lookup, moment = self.range_of(value)
        return qs.filter(**{f"{self.field_name}__{lookup}": moment})


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, turned into UTC before it reaches the database: PostgreSQL refuses a UTC offset beyond
    +-15:59, which Python accepts (up to +-23:59), so `2025-01-01T00:00:00-20:00` is taken as the moment it names."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None or timezone.is_naive(moment):
            return moment
        try:
            return moment.astimezone(UTC)
        except OverflowError:  # within a day of 0001-01-01 or 9999-12-31, with an offset that leaves those years
            raise forms.ValidationError("This moment is outside the years 1 to 9999 in UTC.", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class StrictBooleanField(forms.Field):
    """`true`/`false` (also `1`/`0`, any case); anything else is refused, never read as "no filter"."""

    TRUE = frozenset({"true", "1"})
    FALSE = frozenset({"false", "0"})
    default_error_messages = {"invalid": "Use true or false."}

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, with a 400 for a filter given twice (unless it takes several values, such as a
    batch request's `status`) or given empty when its schema has no empty value (a number, a date, a choice, an
    e-mail address). An empty text filter (`?number=`) or list (`?pk__in=`, `?sort=`) still filters nothing: the
    empty string is text, and an empty list is what a client sends for no values."""

    def get_filterset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return None
        may_repeat, may_be_empty = _query_rules(filterset_class)
        refuse_repeated_or_empty(
            request.query_params, filterset_class.base_filters, may_repeat=may_repeat, may_be_empty=may_be_empty
        )
        return filterset_class(**self.get_filterset_kwargs(request, queryset, view))


@functools.lru_cache(maxsize=256)  # bounded: a view with `filterset_fields` gets a new class per request
def _query_rules(filterset_class) -> tuple[frozenset[str], frozenset[str]]:
    """The filters of `filterset_class` that may be given more than once, and those that may be given empty."""
    filters = filterset_class.base_filters
    return (
        frozenset(name for name, f in filters.items() if isinstance(f, django_filters.MultipleChoiceFilter)),
        frozenset(name for name, f in filters.items() if _may_be_empty(f)),
    )


def _may_be_empty(filter_) -> bool:
    return filter_.field_class is forms.CharField or isinstance(filter_, django_filters.filters.BaseCSVFilter)
