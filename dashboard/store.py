"""Server-side game state, one game per browser session id (never a module-level game).

``MemoryStore`` serves one process (the dashboard runs one gunicorn worker with threads);
several workers would need a shared store with the same three methods.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol, TypeVar

from dashboard.game import Game

T = TypeVar("T")


class GameStore(Protocol):
    def get(self, session_id: str) -> Game | None: ...
    def put(self, session_id: str, game: Game) -> None: ...
    def update(self, session_id: str, change: Callable[[Game], T]) -> T | None: ...


class MemoryStore:
    """Thread-safe; forgets games unused for ``ttl`` seconds, and the oldest beyond ``limit``."""

    def __init__(self, ttl: float, limit: int) -> None:
        self.ttl, self.limit = ttl, limit
        self._games: OrderedDict[str, tuple[float, Game]] = OrderedDict()
        self._lock = threading.Lock()

    def _evict(self, now: float) -> None:
        while self._games:
            oldest, (used, _) = next(iter(self._games.items()))
            if now - used <= self.ttl and len(self._games) <= self.limit:
                break
            del self._games[oldest]

    def get(self, session_id: str) -> Game | None:
        with self._lock:
            now = time.monotonic()
            self._evict(now)
            if session_id not in self._games:
                return None
            game = self._games.pop(session_id)[1]
            self._games[session_id] = (now, game)
            return game

    def put(self, session_id: str, game: Game) -> None:
        with self._lock:
            self._games.pop(session_id, None)
            self._games[session_id] = (time.monotonic(), game)
            self._evict(time.monotonic())

    def update(self, session_id: str, change: Callable[[Game], T]) -> T | None:
        """Apply ``change`` to the session's game atomically (a double click is one click)."""
        with self._lock:
            entry = self._games.get(session_id)
            return None if entry is None else change(entry[1])
