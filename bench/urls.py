"""The service's URLs plus the benchmark's floor: the cheapest page of 100 cancellation requests the service could
answer, under the same token authentication and JSON rendering as the API."""

from django.urls import include, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cancellations.models import CancellationRequest

# The request table's own columns: no joins.
FLOOR_COLUMNS = [field.attname for field in CancellationRequest._meta.concrete_fields]


class FloorView(APIView):
    """`?offset=&limit=`: one SELECT of the requests' own columns along the primary key index, newest first (the
    API's ordering), no joins and no count. At offset 0 it reads the newest `limit` rows by primary key range; at a
    deep offset it skips the same rows a deep page skips."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        offset = int(request.query_params.get("offset", 0))
        limit = int(request.query_params.get("limit", 100))
        rows = CancellationRequest.objects.order_by("-id").values(*FLOOR_COLUMNS)[offset : offset + limit]
        return Response({"results": list(rows)})


urlpatterns = [
    path("api/bench/floor/", FloorView.as_view(), name="bench-floor"),
    path("", include("omnitron.urls")),
]
