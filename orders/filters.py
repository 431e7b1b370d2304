import django_filters

from omnitron.api.filters import EmailFilter, IdFilter
from orders.models import CancelStatus, Order, OrderStatus


class OrderFilter(django_filters.FilterSet):
    number = django_filters.CharFilter(field_name="number")
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    cancel_status = django_filters.ChoiceFilter(
        choices=CancelStatus.choices, null_value="null", null_label="null", help_text="`null`: nothing asked."
    )
    channel = IdFilter(field_name="channel_id")
    customer_email = EmailFilter(field_name="customer__email", lookup_expr="iexact")
    date_placed__gte = django_filters.IsoDateTimeFilter(field_name="date_placed", lookup_expr="gte")
    date_placed__lte = django_filters.IsoDateTimeFilter(field_name="date_placed", lookup_expr="lte")

    class Meta:
        model = Order
        fields = ()
