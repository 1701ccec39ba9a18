"""The console's "Errors in the last hour": how much the dashboard's error counters (``metrics``)
rose over the last hour, summed over every gunicorn worker.

The counters only ever rise, so each worker samples their total once a minute on its loop (in
memory: a minute's figure costs one read of the workers' metric files) and the figure is the
total now less the sample from an hour ago; while the worker is younger than an hour, less its
first sample (taken as it starts: 0 on a fresh dashboard; after gunicorn replaced a worker,
what the others had counted by then).

What counts as an error: every answer 500-599 (a request shed under overload and a game store
that did not answer are answered 503, so they are in it) and every statistics read or write
that failed (the game carried on, so no 5xx shows it).
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from dashboard import metrics
from dashboard.loop import Loop

log = logging.getLogger(__name__)
SAMPLE_S = 60.0
WINDOW_S = 3600.0


def _name(counter: object) -> str:
    """A counter's family name as ``collect()`` reports it (without ``_total``)."""
    return counter.describe()[0].name


def errors_total() -> float:
    """5xx answers and failed statistics reads or writes so far, over every worker."""
    responses, database = _name(metrics.http_responses), _name(metrics.database_errors)
    total = 0.0
    for family in metrics.registry().collect():
        if family.name not in (responses, database):
            continue
        for sample in family.samples:
            if not sample.name.endswith("_total"):
                continue  # _created: when the series began
            if family.name == database or sample.labels.get("status_class") == "5xx":
                total += sample.value
    return total


class ErrorWindow:
    """The error total, sampled every ``SAMPLE_S``; ``last_hour`` is its rise over the last
    ``WINDOW_S``. ``total`` and ``clock`` (monotonic seconds) are the real ones but for tests."""

    def __init__(self, total: Callable[[], float] = errors_total,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._total, self._clock = total, clock
        self._samples: deque[tuple[float, float]] = deque()  # (when, total), oldest first
        self._lock = threading.Lock()  # sampled on the loop, read by web threads

    def start(self, loop: Loop) -> None:
        loop.spawn(self._run())

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.sample)
            except OSError as exc:  # a metrics file went away meanwhile: the next minute
                log.warning("errors not sampled", extra={"error": repr(exc)})
            except RuntimeError as exc:  # the process is exiting, its threads are gone
                log.info("errors no longer sampled", extra={"error": repr(exc)})
                return
            await asyncio.sleep(SAMPLE_S)

    def sample(self) -> None:
        """Note the total now; keep only one sample older than the window."""
        when, total = self._clock(), self._total()
        with self._lock:
            self._samples.append((when, total))
            while len(self._samples) > 1 and self._samples[1][0] <= when - WINDOW_S:
                self._samples.popleft()

    def last_hour(self) -> int:
        """Errors over the last hour (since the first sample, while it is younger)."""
        now, total = self._clock(), self._total()
        with self._lock:
            old = [value for when, value in self._samples if when <= now - WINDOW_S]
            baseline = old[-1] if old else (self._samples[0][1] if self._samples else total)
        return max(0, round(total - baseline))
