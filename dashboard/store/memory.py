"""The stores that keep serialized games under a lock, bounded in bytes and age: the base both
the in-process store (tests) and the on-disk store build on."""
from __future__ import annotations

import abc
import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from dashboard.game import Game
from dashboard.store.format import T, check_key, dumps, loads

log = logging.getLogger("dashboard.store")


class _BlobStore(abc.ABC):
    """get/put/update/delete over serialized games, the same for every store; a subclass
    provides the blob access, every call of it under ``_locked``."""

    max_bytes: int

    @abc.abstractmethod
    def _locked(self) -> contextlib.AbstractContextManager[object]:
        """Excludes every other reader and writer of the store (threads and processes)."""

    @abc.abstractmethod
    def _read(self, key: str) -> bytes | None:
        """The stored blob, marked as just used (its age starts again)."""

    @abc.abstractmethod
    def _write(self, key: str, blob: bytes) -> None: ...

    @abc.abstractmethod
    def _remove(self, key: str) -> None: ...

    def _load(self, key: str, blob: bytes) -> Game | None:
        game = loads(blob)
        if game is None:
            log.warning("dropped an unreadable game")
            self._remove(key)
        return game

    def get(self, session_id: str) -> Game | None:
        key = check_key(session_id)
        with self._locked():
            blob = self._read(key)
            return None if blob is None else self._load(key, blob)

    def put(self, session_id: str, game: Game) -> None:
        key, blob = check_key(session_id), dumps(game)
        if len(blob) > self.max_bytes:
            raise ValueError(f"a game of {len(blob)} bytes does not fit in the store")
        with self._locked():
            self._write(key, blob)

    def update(self, session_id: str, change: Callable[[Game], T]) -> T | None:
        """Apply ``change`` to the session's game and store the result, atomically across
        threads and processes (a double click is one click). None when there is no game."""
        key = check_key(session_id)
        with self._locked():
            blob = self._read(key)
            game = None if blob is None else self._load(key, blob)
            if game is None:
                return None
            result = change(game)
            changed = dumps(game)
            if changed != blob:
                self._write(key, changed)
            return result

    def delete(self, session_id: str) -> None:
        key = check_key(session_id)
        with self._locked():
            self._remove(key)


class MemoryStore(_BlobStore):
    """In this process only (tests): thread-safe; forgets games unused for ``ttl`` seconds,
    and the least recently used ones while the games take more than ``max_bytes``."""

    def __init__(self, *, max_bytes: int, ttl: float) -> None:
        self.max_bytes, self.ttl = max_bytes, ttl
        self._blobs: OrderedDict[str, tuple[float, bytes]] = OrderedDict()  # least recent first
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """Bytes held by the stored games."""
        return self._bytes

    def _evict(self) -> None:
        now = time.monotonic()
        while self._blobs:
            used = next(iter(self._blobs.values()))[0]
            if now - used <= self.ttl and self._bytes <= self.max_bytes:
                break
            self._bytes -= len(self._blobs.popitem(last=False)[1][1])

    def _locked(self) -> contextlib.AbstractContextManager[object]:
        return self._lock

    def _read(self, key: str) -> bytes | None:
        self._evict()
        entry = self._blobs.pop(key, None)
        if entry is None:
            return None
        self._blobs[key] = (time.monotonic(), entry[1])
        return entry[1]

    def _write(self, key: str, blob: bytes) -> None:
        self._remove(key)
        self._blobs[key] = (time.monotonic(), blob)
        self._bytes += len(blob)
        self._evict()

    def _remove(self, key: str) -> None:
        entry = self._blobs.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry[1])

    def close(self) -> None:
        with self._lock:
            self._blobs.clear()
            self._bytes = 0
