"""Races for the PostgreSQL concurrency tests: calls released together by a barrier, each thread on its own
database connection (SQLite cannot show a race)."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection
from rest_framework.test import APIClient

from tests.factories import StaffUserFactory, TokenFactory


def run_together(*calls, timeout: float = 60):
    """Run the calls at once, one thread each; their results in order (an exception in a call is raised here)."""
    barrier = threading.Barrier(len(calls))

    def one(call):
        try:
            barrier.wait(timeout=30)
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [future.result(timeout=timeout) for future in [pool.submit(one, call) for call in calls]]


def race(send, *, threads: int) -> list[tuple[int, object]]:
    """`send(client, index)` in `threads` threads at once, as one staff user: (status code, response) of each."""
    token = TokenFactory(user=StaffUserFactory()).key

    def call(index):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = send(client, index)
        return response.status_code, response

    return run_together(*(lambda index=index: call(index) for index in range(threads)))
