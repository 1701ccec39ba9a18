"""Where a crowd show keeps its state: small JSON values and counters beside the game store,
on the same kind of storage (the machine's disk, or Redis for several machines), so every
worker and every replica sees the same show.

A show is read on every phone's poll and written on every answer, so it is not one pickled
blob rewritten 200 times in 20 seconds: each answer is a key written once (``add``: a second
answer finds it there) and two counters (``incr``); only joins and the screen's own steps
change the show's record (``update``, atomic). Everything expires ``ttl`` seconds after it was
written.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import diskcache
import redis
from diskcache.core import MODE_RAW

from dashboard.settings import Settings
from dashboard.store import MEMORY_URL, REDIS_SCHEMES, StoreBusy, StoreUnavailable, connect_redis

Change = Callable[[Any], Any]  # the stored value (None: none) → the new one


class ShowBoard(Protocol):
    def get(self, key: str) -> Any | None: ...
    def get_many(self, keys: Iterable[str]) -> list[Any | None]: ...
    def set(self, key: str, value: Any) -> None: ...
    def add(self, key: str, value: Any) -> bool: ...
    def incr(self, key: str, by: int = 1) -> int: ...
    def update(self, key: str, change: Change) -> Any: ...
    def close(self) -> None: ...


def _dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _load(blob: object) -> Any | None:
    if isinstance(blob, int):
        return blob
    if not isinstance(blob, bytes):
        return None
    try:
        return json.loads(blob)
    except ValueError:  # damaged: reads as nothing
        return None


class MemoryBoard:
    """In this process only (tests), thread-safe."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._values: dict[str, tuple[float, bytes | int]] = {}
        self._lock = threading.Lock()

    def _read(self, key: str) -> bytes | int | None:
        entry = self._values.get(key)
        if entry is None or entry[0] < time.monotonic():
            self._values.pop(key, None)
            return None
        return entry[1]

    def _write(self, key: str, value: bytes | int) -> None:
        self._values[key] = (time.monotonic() + self.ttl, value)

    def get(self, key: str) -> Any | None:
        with self._lock:
            return _load(self._read(key))

    def get_many(self, keys: Iterable[str]) -> list[Any | None]:
        with self._lock:
            return [_load(self._read(key)) for key in keys]

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._write(key, _dump(value))

    def add(self, key: str, value: Any) -> bool:
        with self._lock:
            if self._read(key) is not None:
                return False
            self._write(key, _dump(value))
            return True

    def incr(self, key: str, by: int = 1) -> int:
        with self._lock:
            count = self._read(key)
            count = (count if isinstance(count, int) else 0) + by
            self._write(key, count)
            return count

    def update(self, key: str, change: Change) -> Any:
        with self._lock:
            value = change(_load(self._read(key)))
            self._write(key, _dump(value))
            return value

    def close(self) -> None:
        with self._lock:
            self._values.clear()


class _ValueDisk(diskcache.Disk):
    """Only our JSON bytes and counters come back: diskcache never unpickles what the file
    holds."""

    def fetch(self, mode: int, filename: str | None, value: object, read: bool) -> object:
        value = super().fetch(mode, filename, value, read) if mode == MODE_RAW else None
        return value if isinstance(value, bytes | int) else b""


class DiskBoard:
    """One SQLite file (diskcache) shared by the processes of one machine."""

    def __init__(self, directory: Path, ttl: float, max_bytes: int = 64 * 2**20,
                 timeout: float = 2.0) -> None:
        self.ttl = ttl
        directory.mkdir(parents=True, exist_ok=True)
        self._cache = diskcache.Cache(
            str(directory), timeout=timeout, disk=_ValueDisk, size_limit=max_bytes,
            eviction_policy="least-recently-stored", cull_limit=10,
            disk_min_file_size=2**30, sqlite_mmap_size=0)

    def _call(self, work: Callable[[], Any]) -> Any:
        try:
            return work()
        except diskcache.Timeout as exc:
            raise StoreBusy("the show board stayed locked by another process") from exc

    def get(self, key: str) -> Any | None:
        return self._call(lambda: _load(self._cache.get(key)))

    def get_many(self, keys: Iterable[str]) -> list[Any | None]:
        return self._call(lambda: [_load(self._cache.get(key)) for key in keys])

    def set(self, key: str, value: Any) -> None:
        self._call(lambda: self._cache.set(key, _dump(value), expire=self.ttl))

    def add(self, key: str, value: Any) -> bool:
        return self._call(lambda: self._cache.add(key, _dump(value), expire=self.ttl))

    def incr(self, key: str, by: int = 1) -> int:
        def work() -> int:
            with self._cache.transact():
                count = self._cache.get(key)
                count = (count if isinstance(count, int) else 0) + by
                self._cache.set(key, count, expire=self.ttl)
                return count
        return self._call(work)

    def update(self, key: str, change: Change) -> Any:
        def work() -> Any:
            with self._cache.transact():
                value = change(_load(self._cache.get(key)))
                self._cache.set(key, _dump(value), expire=self.ttl)
                return value
        return self._call(work)

    def close(self) -> None:
        self._cache.close()


class RedisBoard:
    """In Redis, under ``prefix``: shared by the dashboards of every machine."""

    MAX_ATTEMPTS = 50

    def __init__(self, client: redis.Redis, ttl: float, prefix: str) -> None:
        self._client, self._prefix = client, prefix
        self._ttl_ms = max(1, round(ttl * 1000))

    def _call(self, work: Callable[[], Any]) -> Any:
        try:
            return work()
        except redis.RedisError as exc:
            raise StoreUnavailable(f"the show board did not answer ({type(exc).__name__})") \
                from exc

    def get(self, key: str) -> Any | None:
        return self._call(lambda: _load(self._client.get(self._prefix + key)))

    def get_many(self, keys: Iterable[str]) -> list[Any | None]:
        names = [self._prefix + key for key in keys]
        return self._call(lambda: [_load(v) for v in self._client.mget(names)] if names else [])

    def set(self, key: str, value: Any) -> None:
        self._call(lambda: self._client.set(self._prefix + key, _dump(value), px=self._ttl_ms))

    def add(self, key: str, value: Any) -> bool:
        return self._call(lambda: bool(self._client.set(
            self._prefix + key, _dump(value), px=self._ttl_ms, nx=True)))

    def incr(self, key: str, by: int = 1) -> int:
        def work() -> int:
            with self._client.pipeline() as pipe:
                pipe.incrby(self._prefix + key, by)
                pipe.pexpire(self._prefix + key, self._ttl_ms)
                return int(pipe.execute()[0])
        return self._call(work)

    def update(self, key: str, change: Change) -> Any:
        name = self._prefix + key

        def work() -> Any:
            with self._client.pipeline() as pipe:
                for _ in range(self.MAX_ATTEMPTS):
                    try:
                        pipe.watch(name)
                        value = change(_load(pipe.get(name)))
                        pipe.multi()
                        pipe.set(name, _dump(value), px=self._ttl_ms)
                        pipe.execute()
                        return value
                    except redis.WatchError:
                        continue
            raise StoreBusy(f"the show changed under {self.MAX_ATTEMPTS} updates in a row")
        return self._call(work)

    def close(self) -> None:
        self._client.close()


def open_board(settings: Settings) -> ShowBoard:
    """The show board on the game store's storage (``settings.store_url``)."""
    ttl = settings.show_ttl
    if settings.store_url == MEMORY_URL:
        return MemoryBoard(ttl)
    if settings.store_url.startswith(REDIS_SCHEMES):
        return RedisBoard(connect_redis(settings.store_url, settings.store_timeout), ttl,
                          settings.store_prefix + "show:")
    return DiskBoard(settings.store_dir.with_name(settings.store_dir.name + "-shows"), ttl)
