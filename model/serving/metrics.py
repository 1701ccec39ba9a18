"""Prometheus metrics under TF Serving's names, served at ``/monitoring/prometheus/metrics``.

TF Serving exports counters under their bare names (``:tensorflow:serving:request_count``, no
``_total``) and times in microseconds; a dashboard or alert written for TF Serving reads these
unchanged. REST and gRPC both record through ``observe``.
"""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram, disable_created_metrics
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

disable_created_metrics()  # TF Serving exports no ``_created`` series

REGISTRY = CollectorRegistry()
# TF Serving's buckets for latencies in microseconds: 10 us times 1.8^i.
_BUCKETS = tuple(10 * 1.8**i for i in range(33))

# gRPC's status names for the HTTP statuses this server answers with (TF Serving's mapping).
_CODES = {200: "OK", 400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 408: "DEADLINE_EXCEEDED",
          413: "RESOURCE_EXHAUSTED", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED",
          501: "UNIMPLEMENTED", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


class _Counters(Collector):
    """Counters under TF Serving's bare names. prometheus-client writes every ``counter`` as
    ``<name>_total``, so these go out untyped: the series a query names (``:tensorflow:serving:
    request_count{...}``) is TF Serving's; only the ``# TYPE`` line says untyped, not counter."""

    def __init__(self, name: str, documentation: str, labels: tuple[str, ...]) -> None:
        self.name, self.documentation, self.labels = name, documentation, labels
        self._counts: Counter[tuple[str, ...]] = Counter()
        self._lock = threading.Lock()
        REGISTRY.register(self)

    def inc(self, *values: str) -> None:
        with self._lock:
            self._counts[values] += 1

    def collect(self) -> Iterator[Metric]:
        metric = Metric(self.name, self.documentation, "unknown")
        with self._lock:
            for values, count in self._counts.items():
                metric.add_sample(self.name, dict(zip(self.labels, values, strict=True)), count)
        yield metric


REQUEST_COUNT = _Counters(":tensorflow:serving:request_count",
                          "The total number of requests.", ("model_name", "status"))
REQUEST_LATENCY = Histogram(
    ":tensorflow:serving:request_latency",
    "Distribution of wall time (in microseconds) for Tensorflow Serving request.",
    ["model_name", "API", "entrypoint"], buckets=_BUCKETS, registry=REGISTRY)
WARMUP_LATENCY = Histogram(
    ":tensorflow:serving:model_warmup_latency",
    "Distribution of wall time (in microseconds) for warming up the model.",
    ["model_path", "status"], buckets=_BUCKETS, registry=REGISTRY)
LOAD_ATTEMPTS = _Counters(":tensorflow:cc:saved_model:load_attempt_count",
                          "The number of times a SavedModel was successfully loaded.",
                          ("model_path", "status"))


def status_name(http_status: int) -> str:
    """The gRPC status name TF Serving counts for an HTTP answer."""
    return _CODES.get(http_status, "UNKNOWN" if http_status >= 500 else "INVALID_ARGUMENT")


def observe(api: str, entrypoint: str, model: str, status: str, seconds: float) -> None:
    """Count one request (``status``: a gRPC status name such as ``OK``) and time it.

    ``api`` is TF Serving's name for the call (``Predict``, ``GetModelMetadata``,
    ``GetModelStatus``), ``entrypoint`` ``REST`` or ``GRPC``.
    """
    REQUEST_COUNT.inc(model, status)
    REQUEST_LATENCY.labels(model, api, entrypoint).observe(seconds * 1e6)


def warmup(model_path: str, status: str, seconds: float) -> None:
    WARMUP_LATENCY.labels(model_path, status).observe(seconds * 1e6)


def load_attempt(model_path: str, ok: bool) -> None:
    LOAD_ATTEMPTS.inc(model_path, "success" if ok else "fail")
