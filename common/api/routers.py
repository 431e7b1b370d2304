from django.urls import register_converter
from rest_framework.routers import DefaultRouter

# At most 18 digits: every such number fits a bigint id, so a longer one is a 404, never a database error.
ID_PATTERN = "[0-9]{1,18}"


class IdConverter:
    regex = ID_PATTERN

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")


class Router(DefaultRouter):
    """DRF's router without the root view, whose detail routes match ids only."""

    include_root_view = False
    # `/orders.json` and friends would be a second spelling of every route: one spelling, one contract.
    include_format_suffixes = False

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if not hasattr(viewset, "lookup_value_regex"):
            viewset.lookup_value_regex = ID_PATTERN
        return super().get_lookup_regex(viewset, lookup_prefix)
