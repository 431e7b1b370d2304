from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from kombu import Connection
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not healthy", reported, never raised
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _check_broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return "not configured (tasks run in-process)"
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=settings.BROKER_HEALTH_TIMEOUT) as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.BROKER_HEALTH_TIMEOUT)
    except Exception as exc:  # unreachable broker: report it
        return f"error: {exc.__class__.__name__}"
    return "ok"


class HealthView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["health"],
        responses={
            (200, "application/json"): inline_serializer(
                "Health",
                {
                    "status": serializers.CharField(),
                    "database": serializers.CharField(),
                    "broker": serializers.CharField(),
                },
            ),
            (503, "application/json"): inline_serializer(
                "HealthFailing",
                {
                    "status": serializers.CharField(),
                    "database": serializers.CharField(),
                    "broker": serializers.CharField(),
                },
            ),
        },
    )
    def get(self, request):
        database = _check_database()
        broker = _check_broker()
        healthy = database == "ok" and not broker.startswith("error")
        return Response(
            {"status": "ok" if healthy else "unavailable", "database": database, "broker": broker},
            status=200 if healthy else 503,
        )
