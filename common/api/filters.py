from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.utils import timezone


class IdFormField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class IdFilter(django_filters.NumberFilter):
    """An object id: a whole number a bigint can hold, or a 400 (the plain NumberFilter would take 1.5)."""

    field_class = IdFormField


class IdInFilter(django_filters.BaseInFilter, IdFilter):
    """`?pk__in=1,2,3`; a value that is not a whole number is a 400."""


class EmailFilter(django_filters.CharFilter):
    """An e-mail address, compared case-insensitively; something that is not an address is a 400."""

    field_class = forms.EmailField


class DateOfDateTimeFilter(django_filters.DateFilter):
    """`?field__date__gt=2026-11-01` on a datetime column, turned into a range on the column itself
    (`>= 2026-11-02T00:00`), so the column's index serves it; `__date` would wrap the column in a cast."""

    def __init__(self, *args, bound: str, **kwargs):
        self.bound = bound
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        day_start = timezone.make_aware(datetime.combine(value, time.min))
        next_day = day_start + timedelta(days=1)
        lookup, moment = {
            "gt": ("gte", next_day),
            "gte": ("gte", day_start),
            "lt": ("lt", day_start),
            "lte": ("lt", next_day),
        }[self.bound]
        return qs.filter(**{f"{self.field_name}__{lookup}": moment})
