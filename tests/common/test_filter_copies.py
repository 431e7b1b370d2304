"""Each FilterSet instance (one a request) gets its own copy of every filter, made filter by filter instead of
django-filter's deep copy: the copies answer as the deep copies would."""

import django_filters
import pytest

from cancellations.filters import CancellationRequestFilter
from cancellations.models import CancellationRequest
from common.api.filters import FilterSet
from tests.factories import CancellationRequestFactory

pytestmark = pytest.mark.django_db


class NumberOrStatus(FilterSet):
    number = django_filters.CharFilter(method="by_number")
    status = django_filters.CharFilter()

    class Meta:
        model = CancellationRequest
        fields = []

    def by_number(self, queryset, name, value):
        self.seen = value  # the method runs on this filterset, not on another instance or the class
        return queryset.filter(order_item__order__number=value)


def test_each_instance_has_its_own_filters_bound_to_itself():
    first, second = CancellationRequestFilter(data={}), CancellationRequestFilter(data={})

    for name, filter_ in first.filters.items():
        assert filter_ is not second.filters[name]
        assert filter_ is not CancellationRequestFilter.base_filters[name]
        assert filter_.parent is first
        assert second.filters[name].parent is second
        assert filter_.model is CancellationRequest


def test_a_method_filter_calls_the_method_of_its_own_filterset(channel):
    wanted = CancellationRequestFactory(order_item__order__channel=channel)
    CancellationRequestFactory(order_item__order__channel=channel)
    number = wanted.order_item.order.number
    mine, other = NumberOrStatus(data={"number": number}), NumberOrStatus(data={"number": "nothing"})

    assert list(mine.qs) == [wanted]
    assert mine.seen == number
    assert not hasattr(other, "seen")
    assert list(other.qs) == []
    assert other.seen == "nothing"
