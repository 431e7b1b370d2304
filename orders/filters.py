import django_filters

from common.api.filters import EmailFilter, FilterSet, IdFilter, IdInFilter, UtcIsoDateTimeFilter
from orders.models import CancelStatus, Order, OrderItem, OrderStatus


class OrderFilter(FilterSet):
    pk__in = IdInFilter(field_name="id", lookup_expr="in", help_text="Comma-separated order ids.")
    number = django_filters.CharFilter(field_name="number")
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    cancel_status = django_filters.ChoiceFilter(
        choices=CancelStatus.choices, null_value="null", null_label="null", help_text="`null`: nothing asked."
    )
    channel = IdFilter(field_name="channel_id")
    customer_email = EmailFilter(field_name="customer__email", lookup_expr="iexact")
    date_placed__gte = UtcIsoDateTimeFilter(field_name="date_placed", lookup_expr="gte")
    date_placed__lte = UtcIsoDateTimeFilter(field_name="date_placed", lookup_expr="lte")

    class Meta:
        model = Order
        fields = ()


class OrderItemFilter(FilterSet):
    """What channel-app asks for: `?order=<id>&sort=id`."""

    order = IdFilter(field_name="order_id")
    pk__in = IdInFilter(field_name="id", lookup_expr="in", help_text="Comma-separated item ids.")
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    sort = django_filters.OrderingFilter(fields=(("id", "id"),), help_text="`id` or `-id`.")

    class Meta:
        model = OrderItem
        fields = ()
