import django_filters
from django import forms


class IdFilter(django_filters.NumberFilter):
    """An object id: a whole number, or a 400 (the plain NumberFilter would take 1.5)."""

    field_class = forms.IntegerField


class IdInFilter(django_filters.BaseInFilter, IdFilter):
    """`?pk__in=1,2,3`; a value that is not a whole number is a 400."""


class EmailFilter(django_filters.CharFilter):
    """An e-mail address, compared case-insensitively; something that is not an address is a 400."""

    field_class = forms.EmailField
