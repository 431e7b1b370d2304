import django_filters

from cancellations.models import (
    CancellationPlan,
    CancellationPlanStatus,
    CancellationPlanType,
    CancellationReason,
    CancellationRequest,
    CancellationRequestStatus,
    CancellationType,
)
from common.api.filters import (
    DateOfDateTimeFilter,
    EmailFilter,
    IdFilter,
    IdInFilter,
    StrictBooleanFilter,
    UtcIsoDateTimeFilter,
)


class CancellationReasonFilter(django_filters.FilterSet):
    cancellation_type = django_filters.ChoiceFilter(choices=CancellationType.choices)
    is_active = StrictBooleanFilter()

    class Meta:
        model = CancellationReason
        fields = ()


ORDER = "order_item__order__"


class CancellationRequestFilter(django_filters.FilterSet):
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
    customer_first_name = django_filters.CharFilter(field_name=f"{ORDER}customer__first_name", lookup_expr="iexact")
    customer_last_name = django_filters.CharFilter(field_name=f"{ORDER}customer__last_name", lookup_expr="iexact")
    customer_email = EmailFilter(field_name=f"{ORDER}customer__email", lookup_expr="iexact")
    order_id = IdFilter(field_name="order_item__order_id")
    cancellation_plan_status = django_filters.ChoiceFilter(
        field_name="cancellation_plan__status", choices=CancellationPlanStatus.choices
    )
    easy_return_code = django_filters.CharFilter(field_name="easy_return__code", lookup_expr="iexact")
    tracking_number = django_filters.CharFilter(field_name="easy_return__tracking_number", lookup_expr="iexact")

    class Meta:
        model = CancellationRequest
        fields = ()


class CancellationPlanFilter(django_filters.FilterSet):
    plan_type = django_filters.ChoiceFilter(choices=CancellationPlanType.choices)
    cancellation_plan_status = django_filters.ChoiceFilter(field_name="status", choices=CancellationPlanStatus.choices)
    order_id = IdFilter(field_name="order_id")
    order_number = django_filters.CharFilter(field_name="order__number", lookup_expr="iexact")
    invoice_number = django_filters.CharFilter(field_name="refund_invoice_number")

    class Meta:
        model = CancellationPlan
        fields = ()
