"""The dashboard's asynchronous side: one event loop per process, in a background thread, with
one aiohttp session. Every call to a back-end comes from this loop, never from a web thread.

Dash callbacks run in the web server's threads and hand work over with ``run``, waiting at
most a short budget: what does not finish in time is cancelled, so a request that gives up
leaves no work behind. The pieces that work in the background (the health watcher, the game
pool, the feeds) start their tasks here with ``spawn`` and ``keep``; ``close`` ends them all.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import aiohttp

T = TypeVar("T")


class Loop:
    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="dashboard-io",
                                        daemon=True)
        self._thread.start()
        self._tasks: set[asyncio.Task] = set()
        self.session: aiohttp.ClientSession = self.run(self._open(), timeout=5)

    @staticmethod
    async def _open() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the loop, waiting at most ``timeout``; on timeout it is cancelled
        and TimeoutError raised."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"gave up after {timeout:g} s") from None

    def soon(self, work: Callable[..., object], *args: object) -> None:
        """Call ``work(*args)`` on the loop, from any thread, without waiting."""
        self._loop.call_soon_threadsafe(work, *args)

    def spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        """Run ``coro`` as a task of its own until it ends or the loop closes (any thread)."""
        self.soon(lambda: self.keep(asyncio.ensure_future(coro)))

    def keep(self, task: asyncio.Task) -> asyncio.Task:
        """Cancel ``task`` at close if it is still running (on the loop)."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def close(self) -> None:
        async def shut() -> None:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.session.close()

        self.run(shut(), timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
