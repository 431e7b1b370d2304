"""The project's URLs plus views that fail on purpose, for the JSON error tests."""

from django.urls import path
from rest_framework.views import APIView

from omnitron.urls import urlpatterns as project_urlpatterns


class BrokenApiView(APIView):
    authentication_classes = []
    permission_classes = []

    def get(self, request):
        raise RuntimeError("a bug")


def broken_plain_view(request):
    raise ZeroDivisionError("a bug outside DRF")


urlpatterns = [
    path("api/test/broken/", BrokenApiView.as_view()),
    path("api/test/broken-plain/", broken_plain_view),
    *project_urlpatterns,
]
