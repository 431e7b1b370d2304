from django.contrib import admin

from common.admin import LargeTableMixin
from common.models import ATTRIBUTE_FIELDS
from orders.models import Customer, Order, OrderEvent, OrderItem, Product

RECORD_FIELDS = ("uuid", "created_date", "modified_date")


class ServiceOwnedAdmin(admin.ModelAdmin):
    """Rows that only services create and remove: they keep the money invariants and write the audit trail. The
    attribute JSON on them is what a channel sent: read-only, folded away under the row's own fields."""

    def attribute_fields(self) -> tuple[str, ...]:
        names = {field.name for field in self.model._meta.fields}
        return tuple(name for name in ATTRIBUTE_FIELDS if name in names)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields + tuple(name for name in self.attribute_fields() if name not in fields)

    def get_fieldsets(self, request, obj=None):
        attributes = self.attribute_fields()
        if self.fieldsets or not attributes:
            return super().get_fieldsets(request, obj)
        fields = [name for name in self.get_fields(request, obj) if name not in attributes]
        return [(None, {"fields": fields}), ("Attributes", {"classes": ("collapse",), "fields": attributes})]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ServiceOwnedAdmin):
    """Ledger and audit rows: an edit after the fact would make them lie about what happened."""

    def has_change_permission(self, request, obj=None):
        return False


class IndexedSearchMixin:
    """Matches each search field with a query of its own and unites the matches.

    Django ORs all search fields into one condition over the joined tables; when the fields live in different
    tables no index can serve that OR, and every search scans them all. One query per field uses that field's
    index. Search fields must say their lookup: "=field" (iexact), "^field" (istartswith) or "field__exact".
    """

    prefix_lookups = {"=": "iexact", "^": "istartswith"}

    def get_search_results(self, request, queryset, search_term):
        lookups = [
            f"{field[1:]}__{self.prefix_lookups[field[0]]}" if field[0] in self.prefix_lookups else field
            for field in self.get_search_fields(request)
        ]
        rows = self.model._default_manager.order_by()  # a UNION takes no ORDER BY in its parts
        for term in search_term.split():
            matches = [rows.filter(**{lookup: term}).values("pk") for lookup in lookups]
            queryset = queryset.filter(pk__in=matches[0].union(*matches[1:]))
        return queryset, False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    show_change_link = True

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(LargeTableMixin, admin.ModelAdmin):
    list_display = ("email", "first_name", "last_name", "phone_number", "channel", "created_date")
    list_select_related = ("channel",)
    list_filter = ("channel", "created_date")
    # "=" is a case-insensitive exact match: UPPER(col) = UPPER(term), which the UPPER(...) indexes serve.
    search_fields = ("=email", "=first_name", "=last_name")
    ordering = ("-id",)
    sortable_by = ("created_date",)
    readonly_fields = RECORD_FIELDS


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "ean", "base_code", "created_date")
    search_fields = ("=sku", "=ean", "=base_code")
    readonly_fields = RECORD_FIELDS


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = (
        "product",
        "quantity",
        "price",
        "discount_amount",
        "amount",
        "refund_amount",
        "cancelled_quantity",
        "status",
        "cancel_status",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "product")


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ("created_date", "type", "actor", "payload")
    ordering = ("id",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Order)
class OrderAdmin(IndexedSearchMixin, LargeTableMixin, ServiceOwnedAdmin):
    list_display = (
        "number",
        "amount",
        "refund_amount",
        "currency",
        "status",
        "cancel_status",
        "payment_option",
        "channel",
        "customer",
        "date_placed",
    )
    list_select_related = ("channel", "customer")
    list_only = (
        *("number", "amount", "refund_amount", "currency", "status", "cancel_status", "payment_option", "channel"),
        *("date_placed", "customer__email"),
    )
    # No index holds payment_option: a choice few orders have reads them all.
    list_filter = ("channel", "status", "cancel_status", "payment_option", "date_placed")
    search_fields = ("=number", "=customer__email")
    search_help_text = "An order number or a customer's e-mail address."
    sortable_by = ("number", "date_placed")
    # Staff may correct the references a refund is sent with; who, where and how much belong to the services.
    readonly_fields = (
        "number",
        "channel",
        "customer",
        "date_placed",
        "status",
        "cancel_status",
        "currency",
        "amount",
        "discount_amount",
        "shipping_amount",
        "refund_amount",
        "discount_refund_amount",
        "shipping_refund_amount",
        "payment_option",
        *RECORD_FIELDS,
    )
    fieldsets = (
        (None, {"fields": ("number", "channel", "customer", "date_placed", "status", "cancel_status")}),
        (
            "Money",
            {
                "fields": (
                    "currency",
                    "amount",
                    "discount_amount",
                    "shipping_amount",
                    "refund_amount",
                    "discount_refund_amount",
                    "shipping_refund_amount",
                )
            },
        ),
        ("Payment", {"fields": ("payment_option", "payment_reference", "financing_application_id", "remote_id")}),
        (
            "Record",
            {
                "classes": ("collapse",),
                "fields": (
                    *RECORD_FIELDS,
                    "attributes",
                    "attributes_kwargs",
                    "localized_attributes",
                    "localized_attributes_kwargs",
                ),
            },
        ),
    )
    inlines = [OrderItemInline, OrderEventInline]


@admin.register(OrderItem)
class OrderItemAdmin(IndexedSearchMixin, LargeTableMixin, ServiceOwnedAdmin):
    list_display = (
        "order",
        "sku",
        "quantity",
        "amount",
        "status",
        "cancel_status",
        "cancelled_quantity",
        "refund_amount",
        "price",
        "discount_amount",
        "id",
    )
    list_select_related = ("order", "product")
    list_filter = ("order__channel", "status", "cancel_status", "created_date")
    search_fields = ("=order__number", "=product__sku")
    search_help_text = "An order number or a SKU."
    ordering = ("-id",)
    sortable_by = ("id",)
    # A channel that sent the wrong SKU is fixed by pointing the line at the right product.
    raw_id_fields = ("product",)
    readonly_fields = (
        "order",
        "quantity",
        "price",
        "tax_rate",
        "discount_amount",
        "amount",
        "refund_amount",
        "cancelled_quantity",
        "status",
        "cancel_status",
        *RECORD_FIELDS,
    )

    @admin.display(description="SKU")
    def sku(self, item):
        return item.product.sku


@admin.register(OrderEvent)
class OrderEventAdmin(LargeTableMixin, ReadOnlyAdmin):
    """Newest first. No date filter: only the (order, created_date) index has the column, and it serves an order's
    trail, not a date range over all orders."""

    list_display = ("order", "type", "actor", "created_date", "id")
    list_select_related = ("order", "actor")
    list_filter = ("type",)
    search_fields = ("=order__number",)
    search_help_text = "An order number."
    ordering = ("-id",)
    sortable_by = ("id",)
