"""Games in one SQLite file through diskcache (the default): shared by every gunicorn worker of
the machine, and kept across a restart of the dashboard."""
from __future__ import annotations

import contextlib
import fcntl
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import diskcache
from diskcache.core import MODE_RAW

from dashboard.store.format import StoreBusy
from dashboard.store.memory import _BlobStore

log = logging.getLogger("dashboard.store")


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
