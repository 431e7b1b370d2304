import uuid
from decimal import Decimal
from functools import cached_property

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django.db.models import TextField
from django.db.models.functions import Cast
from rest_framework import serializers

from cancellations.models import (
    CancellationPlan,
    CancellationPlanItem,
    CancellationPlanType,
    CancellationReason,
    CancellationRequest,
    CancellationRequestStatus,
    CancellationType,
    EasyReturn,
)
from channels.conf import conf_without_secrets
from channels.models import Channel
from common.api.fast import FAST_CONVERTERS, FastReadMixin
from common.api.rows import _json_text, _timestamp_text_converter
from common.api.serializers import (
    BASE_MODEL_FIELDS,
    MAX_ID,
    IdRelatedField,
    JSONObjectField,
    PlainMoneyField,
    id_field,
)
from common.compiled import SENTINEL_CHANNEL, SENTINEL_IDS, CompiledSelect
from common.masking import mask_iban
from orders.models import Customer, Order, OrderItem, Product
from refunds.models import Refund, RefundKind, RefundMethod


class CancellationReasonSerializer(FastReadMixin, serializers.ModelSerializer):
    pk = serializers.IntegerField(read_only=True)
    translations = JSONObjectField(
        required=False, allow_null=True, help_text='Subject per language, e.g. {"tr": {"subject": "..."}}.'
    )

    class Meta:
        model = CancellationReason
        fields = (
            "id",
            "pk",
            "cancellation_type",
            "subject",
            "extra_information_needed",
            "order",
            "is_active",
            "send_to_remote",
            "translations",
            "uuid",
            "created_date",
            "modified_date",
        )
        read_only_fields = ("id", "pk", "uuid", "created_date", "modified_date")
        # The column's range on every database (SQLite would not check it).
        extra_kwargs = {"order": {"min_value": 0, "max_value": 2_147_483_647}}


class _ItemKeyedDictField(serializers.DictField):
    """`{"<order item id>": value}`: keys must be item ids; they come out as ints."""

    default_error_messages = {"bad_key": "Keys must be order item ids; {value!r} is not."}

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        result = {}
        for key, value in values.items():
            try:
                item_id = int(key)
            except (TypeError, ValueError):
                self.fail("bad_key", value=key)
            if not 1 <= item_id <= MAX_ID:
                self.fail("bad_key", value=key)
            result[item_id] = value
        return result


class OrderCancelInputSerializer(serializers.Serializer):
    order = id_field(required=False, help_text="If sent, must equal the order id of the path.")
    is_all = serializers.BooleanField(default=False, help_text="Cancel (or return) every item not yet cancelled.")
    cancel_items = serializers.ListField(
        child=id_field(),
        default=list,
        max_length=500,
        help_text="Order item ids; each is cancelled for all of its units not yet cancelled.",
    )
    reasons = _ItemKeyedDictField(child=id_field(), default=dict, help_text='{"<item id>": <reason id>}')
    forced_refund_amount = PlainMoneyField(
        help_text='Replaces the computed total of the items\' refund: a plain decimal ("10.50") or null.'
    )
    is_cargo_refund = serializers.BooleanField(default=False, help_text="Refund the shipping fee alone.")
    refund_invoice_number = serializers.CharField(max_length=128, allow_null=True, allow_blank=True, required=False)
    ibans = _ItemKeyedDictField(child=serializers.CharField(max_length=64, allow_blank=True), default=dict)
    holder_names = _ItemKeyedDictField(child=serializers.CharField(max_length=255, allow_blank=True), default=dict)
    return_details = serializers.BooleanField(
        default=True, help_text="false: answer only {order, cancellation_plan} ids."
    )
    quote_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Commit this quote (from cancel/quote/) with the same body."
    )

    def cancel_kwargs(self) -> dict:
        """The validated body as `order_cancel` takes it."""
        body = self.validated_data
        return {
            "item_ids": body["cancel_items"],
            "is_all": body["is_all"],
            "is_cargo_refund": body["is_cargo_refund"],
            "reasons": body["reasons"],
            "forced_refund_amount": body["forced_refund_amount"],
            "refund_invoice_number": body.get("refund_invoice_number"),
            "ibans": body["ibans"],
            "holder_names": body["holder_names"],
        }


class QuoteItemSerializer(serializers.Serializer):
    order_item = serializers.IntegerField()
    quantity = serializers.IntegerField()
    refund_amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class QuoteRefundSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RefundKind.choices)
    method = serializers.ChoiceField(choices=RefundMethod.choices)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class OrderCancelQuoteSerializer(serializers.Serializer):
    quote_id = serializers.UUIDField(source="pk")
    expires_at = serializers.DateTimeField()
    plan_type = serializers.ChoiceField(choices=CancellationPlanType.choices, source="quote.plan_type")
    items = QuoteItemSerializer(many=True, source="quote.items")
    refunds = QuoteRefundSerializer(many=True, source="quote.refunds")
    total = serializers.DecimalField(max_digits=14, decimal_places=2, source="quote.total")


class OrderCancelSummarySerializer(serializers.Serializer):
    order = serializers.IntegerField()
    cancellation_plan = serializers.IntegerField()


class CancellationPlanItemSerializer(FastReadMixin, serializers.ModelSerializer):
    class Meta:
        model = CancellationPlanItem
        fields = ("order_item", "quantity", "refund_amount")
        read_only_fields = fields


class RefundSerializer(FastReadMixin, serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ("id", "kind", "method", "amount", "status", "attempts", "last_error", "gateway_reference")
        read_only_fields = fields


class CancellationPlanSerializer(FastReadMixin, serializers.ModelSerializer):
    items = CancellationPlanItemSerializer(many=True, read_only=True)
    refunds = RefundSerializer(many=True, read_only=True)

    class Meta:
        model = CancellationPlan
        fields = (
            "id",
            "order",
            "plan_type",
            "status",
            "refund_invoice_number",
            "forced_refund_amount",
            "is_cargo_refund",
            "items",
            "refunds",
            "created_date",
            "modified_date",
        )
        read_only_fields = fields


class EasyReturnSerializer(FastReadMixin, serializers.ModelSerializer):
    class Meta:
        model = EasyReturn
        fields = (
            "id",
            "shipping_company",
            "code",
            "start_date",
            "end_date",
            "max_count",
            "status",
            "raw_request",
            "raw_response",
            "tracking_number",
            "tracking_url",
            "pickup_date",
            "created_date",
            "modified_date",
            "uuid",
        )
        read_only_fields = fields


class CancellationRequestSerializer(FastReadMixin, serializers.ModelSerializer):
    pk = serializers.IntegerField(read_only=True)
    iban = serializers.SerializerMethodField(help_text="Masked: the first 4 and last 4 characters.")
    easy_return = EasyReturnSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CancellationRequest
        fields = (
            "id",
            "pk",
            "order_item",
            "reason",
            "description",
            "cancellation_type",
            "status",
            "iban",
            "holder_name",
            "easy_return",
            "quantity",
            "fully_refund_as_loyalty_money",
            *BASE_MODEL_FIELDS,
        )
        read_only_fields = fields

    def get_iban(self, request) -> str | None:
        return mask_iban(request.iban)


class CancellationRequestInputSerializer(serializers.Serializer):
    """Create (POST), replace (PUT) and partially update (PATCH) a request. Querysets are narrowed to the
    channel by the view, so another channel's item is refused like an unknown one."""

    order_item = IdRelatedField(queryset=OrderItem.objects.all())
    reason = IdRelatedField(queryset=CancellationReason.objects.all())
    cancellation_type = serializers.ChoiceField(choices=CancellationType.choices)
    description = serializers.CharField(allow_null=True, allow_blank=True, required=False, max_length=2000)
    iban = serializers.CharField(allow_null=True, allow_blank=True, required=False, max_length=64)
    holder_name = serializers.CharField(allow_null=True, allow_blank=True, required=False, max_length=255)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000, allow_null=True, required=False)
    fully_refund_as_loyalty_money = serializers.BooleanField(required=False, default=False)
    status = serializers.ChoiceField(
        choices=CancellationRequestStatus.choices, required=False, help_text="Only the current status is accepted."
    )
    attributes = JSONObjectField(required=False)
    attributes_kwargs = JSONObjectField(required=False)
    localized_attributes = JSONObjectField(required=False)
    localized_attributes_kwargs = JSONObjectField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        if self.partial:
            fields["fully_refund_as_loyalty_money"].default = serializers.empty
        return fields


class CancellationRequestApproveInputSerializer(serializers.Serializer):
    forced_refund_amount = PlainMoneyField(help_text='A plain decimal ("10.50") or null.')


class _DetailedProductSerializer(FastReadMixin, serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ("id", "name", "base_code", "sku", "ean", "uuid", "attributes", "created_date", "modified_date")
        read_only_fields = fields


class _DetailedOrderSerializer(FastReadMixin, serializers.ModelSerializer):
    pk = serializers.IntegerField(read_only=True)

    class Meta:
        model = Order
        fields = (
            "pk",
            "number",
            "channel",
            "customer",
            "date_placed",
            "payment_option",
            "cancel_status",
            "status",
            "currency",
            "amount",
            "discount_amount",
            "shipping_amount",
            "refund_amount",
            "discount_refund_amount",
            "shipping_refund_amount",
            "created_date",
            "modified_date",
        )
        read_only_fields = fields


class _DetailedOrderItemSerializer(FastReadMixin, serializers.ModelSerializer):
    pk = serializers.IntegerField(read_only=True)
    order = _DetailedOrderSerializer(read_only=True)
    product = _DetailedProductSerializer(read_only=True)
    price_currency = serializers.CharField(source="order.currency", read_only=True)

    class Meta:
        model = OrderItem
        fields = (
            "pk",
            "order",
            "product",
            "status",
            "price_currency",
            "price",
            "tax_rate",
            "quantity",
            "cancel_status",
            "cancelled_quantity",
            "refund_amount",
            "created_date",
            "modified_date",
            "attributes",
            "attributes_kwargs",
            "localized_attributes",
            "localized_attributes_kwargs",
        )
        read_only_fields = fields


class _DetailedReasonSerializer(CancellationReasonSerializer):
    pk = serializers.IntegerField(read_only=True)

    class Meta(CancellationReasonSerializer.Meta):
        fields = ("pk", *(f for f in CancellationReasonSerializer.Meta.fields if f not in ("id", "pk")))
        read_only_fields = fields


class _DetailedChannelSerializer(FastReadMixin, serializers.ModelSerializer):
    conf = serializers.SerializerMethodField(help_text="The channel conf without credentials.")

    class Meta:
        model = Channel
        fields = ("id", "name", "channel_type", "conf", "is_active", "created_date", "modified_date")
        read_only_fields = fields

    def get_conf(self, channel) -> dict:
        return conf_without_secrets(channel.conf)


class _DetailedCustomerSerializer(FastReadMixin, serializers.ModelSerializer):
    pk = serializers.IntegerField(read_only=True)

    class Meta:
        model = Customer
        fields = (
            "pk",
            "email",
            "first_name",
            "last_name",
            "phone_number",
            "channel",
            "attributes",
            "attributes_kwargs",
            "localized_attributes",
            "localized_attributes_kwargs",
        )
        read_only_fields = fields


class CancellationRequestDetailedSerializer(CancellationRequestSerializer):
    """The request with what it points at nested, as reference 003's `detailed` responses show it."""

    order_item = _DetailedOrderItemSerializer(read_only=True)
    reason = _DetailedReasonSerializer(read_only=True)
    channel = _DetailedChannelSerializer(source="order_item.order.channel", read_only=True)
    customer = _DetailedCustomerSerializer(source="order_item.order.customer", read_only=True)

    class Meta(CancellationRequestSerializer.Meta):
        fields = (
            *CancellationRequestSerializer.Meta.fields[:12],
            "channel",
            "customer",
            *CancellationRequestSerializer.Meta.fields[12:],
        )
        read_only_fields = fields


class RefusalSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ItemEligibilitySerializer(serializers.Serializer):
    order_item = serializers.IntegerField()
    open_quantity = serializers.IntegerField(help_text="Units not yet cancelled.")
    cancellation_type = serializers.ChoiceField(
        choices=CancellationType.choices, allow_null=True, help_text="null: the item is final."
    )
    can_cancel = serializers.BooleanField(help_text="cancel/ accepts this item now (given a reason of its type).")
    iban_required = serializers.BooleanField(help_text="The refund goes by bank transfer: send ibans/holder_names.")
    refund_by_quantity = serializers.DictField(
        child=serializers.DecimalField(max_digits=14, decimal_places=2),
        help_text='What cancelling that many units gives back, e.g. {"1": "9.66", "2": "19.33"}.',
    )
    refusals = RefusalSerializer(many=True, help_text="What cancel/ would answer for this item, when it refuses.")


class OrderEligibilitySerializer(serializers.Serializer):
    order = serializers.IntegerField()
    cargo_refundable = serializers.BooleanField(help_text="The shipping fee can be refunded now (is_cargo_refund).")
    cargo_refusals = RefusalSerializer(many=True)
    items = ItemEligibilitySerializer(many=True)


class _DetailedRows:
    """`CancellationRequestDetailedSerializer(requests, many=True).data`, value for value and key for key, read
    from one `.values_list()` query of the columns it shows instead of some 600 model instances a page.

    A page of 100 detailed requests is some 9,000 values. Read through models, most of its time goes to making the
    instances, to parsing every timestamp into a datetime only to format it again and to decoding JSON documents
    that are mostly `{}`. Here a timestamp and a JSON document are read as their text, as RowReader reads them
    (common.api.rows), a decimal and a uuid as their text too (PostgreSQL's is the contract's already), and every
    other column converted by the serializer field's own reader (FastReadMixin's, else its `to_representation`).
    One generated function builds a row. Unlike RowReader, it reads dotted sources and method fields (`computed`).

    The plan is derived from the serializer: a nested serializer is read through its foreign key's join (None when
    the key is null), a dotted source through its joins. The method fields are the exception, read by `computed`:
    a field name and the column its value is computed from. A field it cannot read is refused when the plan is made,
    so a serializer that gains one fails loudly instead of answering differently."""

    def __init__(self, serializer_class, computed: dict[str, str]):
        self.serializer_class = serializer_class
        self.computed = computed
        self._selects: dict[str, CompiledSelect] = {}

    @cached_property
    def _plan(self):
        columns: dict[str, object] = {"pk": "pk"}
        plan = self._steps(self.serializer_class(), (), columns)
        return plan, columns

    def _steps(self, serializer, path: tuple[str, ...], columns: dict) -> tuple:
        model = serializer.Meta.model
        steps = []
        for field in serializer._readable_fields:
            name = field.field_name
            if not path and name in self.computed:
                steps.append((name, _column(columns, self.computed[name]), name))
                continue
            if not field.source_attrs or field.source == "*":
                raise ImproperlyConfigured(f"{type(serializer).__name__}.{name} cannot be read from a row")
            lookup = "__".join((*path, *field.source_attrs))
            if isinstance(field, FastReadMixin):
                related = _relation(model, field.source_attrs).related_model
                if related is not field.Meta.model:
                    raise ImproperlyConfigured(f"{type(serializer).__name__}.{name} is not its relation's model")
                nested = self._steps(field, (*path, *field.source_attrs), columns)
                steps.append((name, _column(columns, lookup), nested))
                continue
            model_field = _relation(model, field.source_attrs)
            steps.append((name, *_reader(field, model_field, lookup, columns)))
        return tuple(steps)

    def _select(self) -> CompiledSelect:
        """The rows' SELECT of a channel's instances by id, compiled once per database vendor: resolving some 90
        lookups through their joins costs more than running the query, and on PostgreSQL it is prepared once per
        connection (planning its seven joins costs more than running them for a page)."""
        vendor = connection.vendor
        if vendor not in self._selects:
            _, columns = self._plan
            rows = self.serializer_class.Meta.model._default_manager.order_by().values_list(*columns.values())
            self._selects[vendor] = CompiledSelect.of(rows.filter(channel_id=SENTINEL_CHANNEL, pk__in=[SENTINEL_IDS]))
        return self._selects[vendor]

    def rows(self, *, channel: int, ids: list[int]) -> list[list]:
        """The rows `read` takes, of the channel's instances of these ids, in no particular order."""
        return self._select().rows(channel=channel, ids=ids)

    @cached_property
    def _build(self):
        plan, _ = self._plan
        return _builder(plan)

    def read(self, rows, computed: dict) -> list[dict]:
        """The representation of `rows` (from `rows`); `computed[name]` makes a computed field's value from its
        column's (not called for None)."""
        build = self._build
        return [build(row, computed) for row in rows]


def _relation(model, attributes):
    """The model field a source reaches through its foreign keys (`order.currency` of an item: Order.currency)."""
    field = None
    for attribute in attributes:
        if field is not None:
            model = field.related_model
        field = model._meta.pk if attribute == "pk" else model._meta.get_field(attribute)
    return field


def _column(columns: dict, lookup: str, *, as_text: bool = False) -> int:
    """The index of a column of the query, added once."""
    key = f"{lookup} as text" if as_text else lookup
    if key not in columns:
        columns[key] = Cast(lookup, TextField()) if as_text else lookup
    return list(columns).index(key)


def _reader(field, model_field, lookup: str, columns: dict) -> tuple[int, object]:
    """(column index, converter) of a plain field."""
    if isinstance(model_field, models.ForeignKey):
        if type(field) is not serializers.PrimaryKeyRelatedField or field.pk_field is not None:
            raise ImproperlyConfigured(f"{field.field_name} cannot be read from a row")
        return _column(columns, lookup), int
    if (
        isinstance(model_field, models.JSONField)
        and model_field.decoder is None
        and isinstance(field, serializers.JSONField)
        and type(field).to_representation is serializers.JSONField.to_representation
        and not field.binary
    ):
        return _column(columns, lookup, as_text=True), _json_text
    factory = FAST_CONVERTERS.get(type(field))
    convert = factory(field) if factory is not None else None
    if isinstance(model_field, models.DateTimeField) and type(field) is serializers.DateTimeField and convert:
        from_text = _timestamp_text_converter(field, convert)
        if from_text is not None:
            return _column(columns, lookup, as_text=True), from_text
    if (
        isinstance(model_field, models.DecimalField)
        and type(field) is serializers.DecimalField
        and field.decimal_places == model_field.decimal_places
        and convert != field.to_representation
    ):
        return _column(columns, lookup, as_text=True), _decimal_text(field.decimal_places, convert)
    if isinstance(model_field, models.UUIDField) and type(field) is serializers.UUIDField and convert is str:
        return _column(columns, lookup, as_text=True), _uuid_text
    return _column(columns, lookup), convert or field.to_representation


def _decimal_text(places: int, convert):
    """A decimal's text as the field formats the decimal: PostgreSQL's text of a column with the field's places is
    that already; another (SQLite's "10.5") goes through the field's converter."""

    def convert_text(text):
        dot = text.find(".")
        if dot > 0 and dot == len(text) - places - 1:
            return text
        return convert(Decimal(text))

    return convert_text


def _uuid_text(text):
    # PostgreSQL's text is the hyphenated form; SQLite stores the 32 hex digits.
    return text if len(text) == 36 else str(uuid.UUID(text))


def _builder(plan):
    """`build(row, computed)`: the plan as one function returning one dict display, made once. Some 9,000 values a
    page go through it; a loop over the plan spent more time walking the plan than converting the values."""
    namespace = {}

    def display(steps) -> str:
        entries = []
        for name, index, how in steps:
            if isinstance(how, tuple):
                value = display(how)
            elif isinstance(how, str):
                value = f"computed[{how!r}](value)"
            else:
                namespace[f"convert_{index}"] = how
                value = f"convert_{index}(value)"
            entries.append(f"{name!r}: None if (value := row[{index}]) is None else {value}")
        return "{" + ", ".join(entries) + "}"

    # The source is made of the plan alone (field names and column indexes), never of a request.
    exec(f"def build(row, computed):\n    return {display(plan)}\n", namespace)
    return namespace["build"]


DETAILED_REQUEST_ROWS = _DetailedRows(
    CancellationRequestDetailedSerializer,
    computed={"iban": "iban", "channel": "order_item__order__channel"},
)


def cancellation_request_detailed_data(request_ids: list[int], *, channel: Channel) -> list[dict]:
    """The detailed representation of the channel's requests of these ids, in this order: what
    CancellationRequestDetailedSerializer makes of them, read by DETAILED_REQUEST_ROWS in one query. The channel, the
    same for every request of a channel's list, is read once."""
    channels = {channel.pk: _DetailedChannelSerializer(channel).data}

    def channel_data(channel_id):
        if channel_id not in channels:
            channels[channel_id] = _DetailedChannelSerializer(Channel.objects.get(pk=channel_id)).data
        return channels[channel_id]

    by_id = {row[0]: row for row in DETAILED_REQUEST_ROWS.rows(channel=channel.pk, ids=request_ids)}
    rows = [by_id[request_id] for request_id in request_ids if request_id in by_id]
    return DETAILED_REQUEST_ROWS.read(rows, {"iban": mask_iban, "channel": channel_data})
