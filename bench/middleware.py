import time

from django.db import connection

COUNT_HEADER = "X-Bench-Count-Queries"


class _QueryMeter:
    def __init__(self):
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.seconds += time.perf_counter() - started


class QueryCountMiddleware:
    """Answers `X-Query-Count` (the SQL queries the request ran) and `X-Query-Milliseconds` (the time spent in
    them, as the database driver returned) when the request asks with `X-Bench-Count-Queries: 1`. The timed requests
    do not ask, so they run exactly as in production."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.headers.get(COUNT_HEADER) != "1":
            return self.get_response(request)
        meter = _QueryMeter()
        with connection.execute_wrapper(meter):
            response = self.get_response(request)
        response["X-Query-Count"] = str(meter.count)
        response["X-Query-Milliseconds"] = f"{meter.seconds * 1000:.1f}"
        return response
