import django_filters

from cancellations.models import CancellationReason, CancellationType


class CancellationReasonFilter(django_filters.FilterSet):
    cancellation_type = django_filters.ChoiceFilter(choices=CancellationType.choices)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = CancellationReason
        fields = ()
