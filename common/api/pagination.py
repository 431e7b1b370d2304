from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class LimitPagePagination(PageNumberPagination):
    """`?limit=` (default 10, at most 100) and `?page=` (from 1), as Omnitron's list endpoints take them."""

    page_size = 10
    page_size_query_param = "limit"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            limit = int(raw)
        except ValueError:
            raise ValidationError({"limit": ["A whole number from 1 to 100 is required."]}) from None
        if limit < 1:
            raise ValidationError({"limit": ["A whole number from 1 to 100 is required."]})
        return min(limit, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw not in (None, "", "last"):
            try:
                valid = int(raw) >= 1
            except ValueError:
                valid = False
            if not valid:
                raise ValidationError({"page": ["A whole number from 1 is required."]})
        return super().paginate_queryset(queryset, request, view)
