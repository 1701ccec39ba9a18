"""Server-side game state, one game per browser session id (never a module-level game).

``DiskStore``, the default, keeps games in one SQLite file through diskcache: every gunicorn
worker of the machine shares it, and a game in progress survives a restart of the dashboard.
``RedisStore`` (``DASHBOARD_STORE_URL=redis://…``) keeps them in Redis, shared by the
dashboards of every machine behind one proxy. ``MemoryStore`` keeps them in the process, for
tests. All hold serialized games, so all are bounded in bytes as well as in age, and a game that
is read is the caller's own copy: only ``put`` and ``update`` change what is stored.

Games are pickled (only this module writes the store) behind a header that names the shape of
the game's dataclasses, and read back by an unpickler that builds nothing but those classes:
a game saved by other code, a damaged entry or a crafted one reads as "no game", never a crash.
"""
from __future__ import annotations

import abc
import contextlib
import fcntl
import hashlib
import io
import logging
import pickle
import re
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Protocol, TypeVar

import diskcache
import redis
from diskcache.core import MODE_RAW
from redis.backoff import NoBackoff
from redis.retry import Retry

from dashboard import game as game_module
from dashboard.game import Game
from dashboard.settings import Settings

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_KEY = 64
KEY = re.compile(r"[A-Za-z0-9_-]+")
MEMORY_URL = "memory:"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class StoreBusy(TimeoutError):
    """Another process held the store's lock too long (e.g. a worker frozen mid-write)."""


class StoreUnavailable(StoreBusy):
    """The store's server did not answer (Redis down, unreachable, slower than the timeout,
    or refusing writes): callers treat it as they treat a busy store."""


class GameStore(Protocol):
    """One game per session id; ``update`` is an atomic read-modify-write of the game."""

    def get(self, session_id: str) -> Game | None: ...
    def put(self, session_id: str, game: Game) -> None: ...
    def update(self, session_id: str, change: Callable[[Game], T]) -> T | None: ...
    def delete(self, session_id: str) -> None: ...
    def close(self) -> None: ...


def open_store(settings: Settings) -> GameStore:
    """The store ``settings.store_url`` names; anything else stops the start-up with why."""
    url = settings.store_url
    if url == MEMORY_URL:
        return MemoryStore(max_bytes=settings.store_max_bytes, ttl=settings.game_ttl)
    if url == "":
        return DiskStore(settings.store_dir, max_bytes=settings.store_max_bytes,
                         ttl=settings.game_ttl)
    if url.startswith(REDIS_SCHEMES):
        return RedisStore(connect_redis(url, settings.store_timeout),
                          max_bytes=settings.store_max_bytes, ttl=settings.game_ttl,
                          prefix=settings.store_prefix)
    scheme = url.partition(":")[0][:20]  # never echo the rest: a URL may carry a password
    raise ValueError(f"DASHBOARD_STORE_URL: unknown store {scheme!r}; use '' (on disk in "
                     f"DASHBOARD_STORE_DIR), redis://host:port/db or {MEMORY_URL!r}")


def connect_redis(url: str, timeout: float, max_connections: int = 32) -> redis.Redis:
    """A client of the Redis at ``url`` whose every call gives up after ``timeout`` seconds:
    connecting, each reply, and waiting for one of ``max_connections`` pooled connections. A
    connection that fails is retried once at once (the one that a restart of Redis broke),
    a timeout never: a stalled Redis costs a request ``timeout``, not a multiple of it."""
    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=timeout, socket_timeout=timeout,
        socket_connect_timeout=timeout, health_check_interval=30,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)))
    return redis.Redis(connection_pool=pool)


def check_key(session_id: object) -> str:
    """Refuse anything but a short plain string, whatever the caller checked before."""
    if (not isinstance(session_id, str) or len(session_id) > MAX_KEY
            or not KEY.fullmatch(session_id)):
        raise ValueError(f"a session id is 1 to {MAX_KEY} letters, digits, '-' or '_'")
    return session_id


# --- serialization: the one place that turns a game into bytes and back ---

def _shape() -> bytes:
    """Changes with the fields of the stored dataclasses, so games that an older version of
    the code saved read as no game instead of half-filled objects."""
    shape = [(cls.__name__, [(f.name, str(f.type)) for f in fields(cls)])
             for cls in (game_module.Game, game_module.Round, game_module.Car)]
    return b"game:" + hashlib.sha256(repr(shape).encode()).digest()[:8]


FORMAT = _shape()
GAME_CLASSES = frozenset({"Game", "Round", "Car"})


class _GameUnpickler(pickle.Unpickler):
    """Builds only the game's own classes: a crafted entry cannot run code."""

    def find_class(self, module: str, name: str) -> type:
        if module == game_module.__name__ and name in GAME_CLASSES:
            return getattr(game_module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a game")


def dumps(game: Game) -> bytes:
    return FORMAT + pickle.dumps(game, protocol=pickle.HIGHEST_PROTOCOL)


def loads(blob: object) -> Game | None:
    """The stored game, or None for anything unreadable (old format, damaged, foreign)."""
    if not isinstance(blob, bytes) or not blob.startswith(FORMAT):
        return None
    try:
        game = _GameUnpickler(io.BytesIO(memoryview(blob)[len(FORMAT):])).load()
    except Exception:  # any damage reads as "no game"; the entry is then dropped
        return None
    return game if isinstance(game, Game) else None


# --- the stores ---

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


class RedisStore:
    """Games in Redis, each under ``prefix`` + session id with a TTL of ``ttl`` seconds that
    every read and write starts again; shared by every worker of every machine that uses it.

    ``update`` is optimistic (WATCH, then MULTI/EXEC, again if another client changed the game
    meanwhile), so a double click from two machines counts once. The total is bounded by the
    server: its ``maxmemory`` with the ``allkeys-lru`` policy drops the least recently played
    games (``make play`` starts Redis so; compose sets it on the command line). A Redis that is
    down or stalls raises ``StoreUnavailable`` within the client's timeout, never hangs.
    """

    MAX_ATTEMPTS = 50  # of an update that other clients keep changing under it

    def __init__(self, client: redis.Redis, *, max_bytes: int, ttl: float,
                 prefix: str) -> None:
        self.max_bytes, self.prefix = max_bytes, prefix
        self._client = client
        self._ttl_ms = max(1, round(ttl * 1000))

    def _key(self, session_id: object) -> str:
        return self.prefix + check_key(session_id)

    @contextlib.contextmanager
    def _answering(self) -> Iterator[None]:
        try:
            yield
        except redis.RedisError as exc:  # down, refused, timed out, out of memory
            raise StoreUnavailable(f"the game store did not answer ({type(exc).__name__})") \
                from exc

    def _drop(self, key: str) -> None:
        log.warning("dropped an unreadable game")
        self._client.delete(key)

    def get(self, session_id: str) -> Game | None:
        key = self._key(session_id)
        with self._answering():
            try:
                blob = self._client.getex(key, px=self._ttl_ms)  # a read is a use
            except redis.ResponseError:  # not a string: nothing this store wrote
                blob = b""
            if blob is None:
                return None
            game = loads(blob)
            if game is None:
                self._drop(key)
            return game

    def put(self, session_id: str, game: Game) -> None:
        key, blob = self._key(session_id), dumps(game)
        if len(blob) > self.max_bytes:
            raise ValueError(f"a game of {len(blob)} bytes does not fit in the store")
        with self._answering():
            self._client.set(key, blob, px=self._ttl_ms)

    def update(self, session_id: str, change: Callable[[Game], T]) -> T | None:
        """Apply ``change`` to the session's game and store the result, atomically across
        clients: if the game changed between the read and the write, the write is refused
        and ``change`` applied again to the new game. None when there is no game."""
        key = self._key(session_id)
        with self._answering(), self._client.pipeline() as pipe:
            for _ in range(self.MAX_ATTEMPTS):
                try:
                    pipe.watch(key)
                    try:
                        blob = pipe.get(key)
                    except redis.ResponseError:
                        blob = b""
                    game = None if blob is None else loads(blob)
                    if game is None:
                        pipe.unwatch()
                        if blob is not None:
                            self._drop(key)
                        return None
                    result = change(game)
                    changed = dumps(game)
                    pipe.multi()
                    if changed != blob:
                        pipe.set(key, changed, px=self._ttl_ms)
                    else:
                        pipe.pexpire(key, self._ttl_ms)  # an unchanged game was still used
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue
        raise StoreBusy(f"the game changed under {self.MAX_ATTEMPTS} updates in a row")

    def delete(self, session_id: str) -> None:
        key = self._key(session_id)
        with self._answering():
            self._client.delete(key)

    def close(self) -> None:
        self._client.close()
        self._client.connection_pool.disconnect()


class _RawDisk(diskcache.Disk):
    """The store only ever holds our bytes: diskcache must never unpickle what the file holds
    (anything else reads as an unreadable game, and is dropped)."""

    def fetch(self, mode: int, filename: str | None, value: object, read: bool) -> bytes:
        value = super().fetch(mode, filename, value, read) if mode == MODE_RAW else None
        return value if isinstance(value, bytes) else b""


class DiskStore(_BlobStore):
    """One SQLite file in ``directory`` (diskcache), shared by the processes of one machine.

    Games are stored inside the database (not as separate files), so diskcache's size estimate
    is the file's real size; ``max_bytes`` bounds the directory, write-ahead log included.
    Games unused for ``ttl`` seconds read as gone and are deleted by the next writes; beyond
    the size bound the least recently used go first. A lock held longer than ``timeout``
    seconds by another process raises ``StoreBusy``.
    """

    def __init__(self, directory: Path, *, max_bytes: int, ttl: float,
                 timeout: float = 2.0) -> None:
        self.max_bytes, self.ttl = max_bytes, ttl
        # diskcache counts the database file but not its write-ahead log: the log is kept to a
        # sixteenth of the bound (4 MiB at most), and the database leaves room for three such
        # (the log, a transaction beyond it, a game stored before the oldest are culled).
        wal = min(4 * 2**20, max_bytes // 16)
        self._cache = _open_cache(Path(directory), timeout, {
            "size_limit": max_bytes - 3 * wal,
            "eviction_policy": "least-recently-used",
            "cull_limit": 2,  # each write drops up to two expired or least recently used games
            "disk_min_file_size": 2**30,  # every game inside the database file
            "sqlite_auto_vacuum": 1,  # FULL: deleted games give their pages back to the disk
            "sqlite_journal_size_limit": wal,
            "sqlite_wal_autocheckpoint": max(wal // 4096, 16),  # pages of 4 KiB
            "sqlite_cache_size": -1024,  # KiB per connection (one per thread)
            "sqlite_mmap_size": 0,
        })

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            with self._cache.transact():
                yield
        except diskcache.Timeout as exc:
            raise StoreBusy("the game store stayed locked by another process") from exc

    def _read(self, key: str) -> bytes | None:
        blob = self._cache.get(key)  # least-recently-used policy: this marks it used
        if blob is not None:
            self._cache.touch(key, expire=self.ttl)
        return blob

    def _write(self, key: str, blob: bytes) -> None:
        self._cache.set(key, blob, expire=self.ttl)

    def _remove(self, key: str) -> None:
        self._cache.delete(key)

    def close(self) -> None:
        self._cache.close()


def _open_cache(directory: Path, timeout: float, settings: dict[str, object]) -> diskcache.Cache:
    """Open the store, one process at a time; a database file that SQLite cannot read (games
    are disposable) is replaced by an empty one instead of stopping the dashboard."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "open.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return diskcache.Cache(str(directory), timeout=timeout, disk=_RawDisk, **settings)
        except sqlite3.DatabaseError:
            log.error("the game store was unreadable; starting an empty one",
                      extra={"directory": str(directory)})
            for name in ("cache.db", "cache.db-wal", "cache.db-shm"):
                (directory / name).unlink(missing_ok=True)
            return diskcache.Cache(str(directory), timeout=timeout, disk=_RawDisk, **settings)
