from datetime import UTC, date, time, timedelta

import django_filters
from django.db.models import QuerySet, Subquery
from django.db.models.lookups import Exact
from django.utils import timezone

from cancellations.models import (
    CancellationPlan,
    CancellationPlanStatus,
    CancellationPlanType,
    CancellationReason,
    CancellationRequest,
    CancellationRequestStatus,
    CancellationType,
    RequestIdCeiling,
)
from common.api.filters import (
    DateOfDateTimeFilter,
    EmailFilter,
    FilterSet,
    IdFilter,
    IdInFilter,
    StrictBooleanFilter,
    UtcIsoDateTimeFilter,
)


class CancellationReasonFilter(FilterSet):
    cancellation_type = django_filters.ChoiceFilter(choices=CancellationType.choices)
    is_active = StrictBooleanFilter()

    class Meta:
        model = CancellationReason
        fields = ()


ORDER = "order_item__order__"
# The filters that bound date_placed from above: they also bound the id (see RequestIdCeiling).
PLACED_UPPER_BOUNDS = ("date_placed__lt", "date_placed__lte", "date_placed__date__lt", "date_placed__date__lte")


class CancellationRequestFilter(FilterSet):
    pk__in = IdInFilter(field_name="id", lookup_expr="in", help_text="Comma-separated request ids.")
    status = django_filters.ChoiceFilter(choices=CancellationRequestStatus.choices)
    number = django_filters.CharFilter(field_name=f"{ORDER}number", lookup_expr="iexact", help_text="Order number")
    date_placed = UtcIsoDateTimeFilter(field_name="date_placed")
    date_placed__gt = UtcIsoDateTimeFilter(field_name="date_placed", lookup_expr="gt")
    date_placed__gte = UtcIsoDateTimeFilter(field_name="date_placed", lookup_expr="gte")
    date_placed__lt = UtcIsoDateTimeFilter(field_name="date_placed", lookup_expr="lt")
    date_placed__lte = UtcIsoDateTimeFilter(field_name="date_placed", lookup_expr="lte")
    date_placed__date__gt = DateOfDateTimeFilter(field_name="date_placed", bound="gt")
    date_placed__date__gte = DateOfDateTimeFilter(field_name="date_placed", bound="gte")
    date_placed__date__lt = DateOfDateTimeFilter(field_name="date_placed", bound="lt")
    date_placed__date__lte = DateOfDateTimeFilter(field_name="date_placed", bound="lte")
    sku = django_filters.CharFilter(field_name="order_item__product__sku", lookup_expr="iexact")
    channel = IdFilter(field_name="channel_id")
    # The order's customer, copied onto the request: a name is shared by many customers, so the matching requests
    # are found from the customers (their name's index), then (channel, customer, id) on this table.
    customer_first_name = django_filters.CharFilter(field_name="customer__first_name", lookup_expr="iexact")
    customer_last_name = django_filters.CharFilter(field_name="customer__last_name", lookup_expr="iexact")
    customer_email = EmailFilter(field_name="customer__email", lookup_expr="iexact")
    order_id = IdFilter(field_name="order_item__order_id")
    cancellation_plan_status = django_filters.ChoiceFilter(
        field_name="cancellation_plan__status", choices=CancellationPlanStatus.choices
    )
    easy_return_code = django_filters.CharFilter(field_name="easy_return__code", lookup_expr="iexact")
    tracking_number = django_filters.CharFilter(field_name="easy_return__tracking_number", lookup_expr="iexact")

    class Meta:
        model = CancellationRequest
        fields = ()

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        last_day = self._last_placed_day()
        if last_day is None:
            return queryset
        return queryset.filter(id__lte=Subquery(id_ceiling(channel_id=_channel_of(queryset), last_day=last_day)))

    def _last_placed_day(self) -> date | None:
        """The last UTC day a request the upper bounds on date_placed let through can have been placed on."""
        days = []
        for name in PLACED_UPPER_BOUNDS:
            value = self.form.cleaned_data.get(name)
            if value in (None, ""):
                continue
            filter_ = self.filters[name]
            if isinstance(filter_, DateOfDateTimeFilter):
                lookup, moment = filter_.range_of(value)
            else:
                lookup, moment = filter_.lookup_expr, value
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            moment = moment.astimezone(UTC)
            day = moment.date()
            if lookup == "lt" and moment.time() == time.min and day > date.min:
                day -= timedelta(days=1)  # before midnight: the day before at the latest
            days.append(day)
        return min(days, default=None)


def id_ceiling(*, channel_id: int | None, last_day: date) -> QuerySet:
    """The highest id a request of the channel (of any channel: None) placed on `last_day` or before can have, as
    a one-row subquery; no row (NULL, which no id is below) when no such request was ever made. Requests ids do
    not follow their placing dates exactly, but the bound holds whatever they follow: it only says where the
    newest-first scan of an upper-bounded list may start, so the rows it returns are exactly those of the filter."""
    ceilings = RequestIdCeiling.objects.filter(day__lte=last_day)
    if channel_id is not None:
        ceilings = ceilings.filter(channel_id=channel_id)
    return ceilings.order_by("-id_ceiling").values("id_ceiling")[:1]


def _channel_of(queryset) -> int | None:
    """The channel a request queryset is restricted to (`channel_id = X` in its WHERE's top conjunction)."""
    where = queryset.query.where
    if where.connector != "AND" or where.negated:
        return None
    channel = CancellationRequest._meta.get_field("channel")
    for condition in where.children:
        if isinstance(condition, Exact) and getattr(condition.lhs, "target", None) is channel:
            return condition.rhs
    return None


class CancellationPlanFilter(FilterSet):
    plan_type = django_filters.ChoiceFilter(choices=CancellationPlanType.choices)
    cancellation_plan_status = django_filters.ChoiceFilter(field_name="status", choices=CancellationPlanStatus.choices)
    order_id = IdFilter(field_name="order_id")
    order_number = django_filters.CharFilter(field_name="order__number", lookup_expr="iexact")
    invoice_number = django_filters.CharFilter(field_name="refund_invoice_number")

    class Meta:
        model = CancellationPlan
        fields = ()
