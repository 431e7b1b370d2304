"""Timing calls against the floor, request by request: floor, call, floor, call... on persistent connections."""

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bench.middleware import COUNT_HEADER

FLOOR_PATH = "/api/bench/floor/"
PAGE_SIZE = 100


@dataclass(frozen=True)
class Pacing:
    samples: int  # at most this many timed pairs per call
    min_samples: int  # at least this many, however slow the call
    warmup: int  # untimed pairs first
    seconds: float  # past min_samples, stop sampling a call after this long


@dataclass(frozen=True)
class Target:
    """Ratios to the floor a call must stay within, and a query budget."""

    p50: float
    p95: float | None = None
    max_queries: int | None = None
    # no more queries at limit 100 than at limit 1 (a page that holds the whole list needs no count: fewer is fine)
    flat_queries: bool = False

    def describe(self) -> str:
        parts = [f"p50<={self.p50:g}x"]
        if self.p95 is not None:
            parts.append(f"p95<={self.p95:g}x")
        if self.max_queries is not None:
            parts.append(f"q<={self.max_queries}")
        if self.flat_queries:
            parts.append("q flat")
        return " ".join(parts)


@dataclass
class Result:
    label: str
    target: Target
    call_ms: list[float] = field(default_factory=list)
    floor_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)  # at limit 1/10/100 for lists, one count otherwise
    sql_ms: float | None = None  # the queries' own time, in one counted call (at limit 100 for lists)
    error: str | None = None

    @property
    def p50(self) -> float:
        return statistics.median(self.call_ms)

    @property
    def p95(self) -> float:
        return percentile(self.call_ms, 0.95)

    @property
    def floor_p50(self) -> float:
        return statistics.median(self.floor_ms)

    @property
    def floor_p95(self) -> float:
        return percentile(self.floor_ms, 0.95)

    @property
    def ratio_p50(self) -> float:
        return self.p50 / self.floor_p50

    @property
    def ratio_p95(self) -> float:
        return self.p95 / self.floor_p95

    @property
    def met(self) -> bool:
        if self.error or not self.call_ms:
            return False
        target = self.target
        checks = [self.ratio_p50 <= target.p50]
        if target.p95 is not None:
            checks.append(self.ratio_p95 <= target.p95)
        if target.max_queries is not None:
            checks.append(bool(self.queries) and max(self.queries) <= target.max_queries)
        if target.flat_queries:
            checks.append(self.queries == sorted(self.queries, reverse=True))
        return all(checks)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least `fraction` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class CallFailed(Exception):
    pass


def _timed(send: Callable[[], httpx.Response], what: str) -> float:
    started = time.perf_counter()
    response = send()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise CallFailed(f"{what} answered {response.status_code}: {response.text[:200]}")
    return elapsed


class Bench:
    """Times calls interleaved with the floor. `api` carries the staff token (the floor always goes through it)."""

    def __init__(self, api: httpx.Client, pacing: Pacing):
        self.api = api
        self.pacing = pacing

    def floor(self, offset: int = 0) -> Callable[[], httpx.Response]:
        return lambda: self.api.get(FLOOR_PATH, params={"offset": offset, "limit": PAGE_SIZE})

    def run(
        self,
        result: Result,
        send: Callable[[], httpx.Response],
        *,
        floor_offset: int = 0,
        available: int | None = None,
    ) -> Result:
        """Warm up, then sample pairs until enough; `available`: how many calls `send` can make (cancels use up an
        order each)."""
        pacing = self.pacing
        floor = self.floor(floor_offset)
        wanted = pacing.warmup + pacing.samples
        if available is not None:
            wanted = min(wanted, available)
        started = None
        try:
            for n in range(wanted):
                floor_ms = _timed(floor, "the floor")
                call_ms = _timed(send, result.label)
                if n < pacing.warmup:
                    continue
                if started is None:
                    started = time.perf_counter()
                result.floor_ms.append(floor_ms)
                result.call_ms.append(call_ms)
                taken = len(result.call_ms)
                if taken >= pacing.min_samples and time.perf_counter() - started > pacing.seconds:
                    break
        except CallFailed as failure:
            result.error = str(failure)
        return result


def count_queries(client: httpx.Client, method: str, url: str, **kwargs) -> tuple[int, float]:
    """One call with the server's query counter on: its queries, and their time in milliseconds."""
    response = client.request(method, url, headers={COUNT_HEADER: "1"}, **kwargs)
    if response.status_code != 200:
        raise CallFailed(f"{method} {url} answered {response.status_code}: {response.text[:200]}")
    return int(response.headers["X-Query-Count"]), float(response.headers["X-Query-Milliseconds"])
