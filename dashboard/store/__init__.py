"""Server-side game state, one game per browser session id (never a module-level game).

``DiskStore`` (``disk``), the default, keeps games in one SQLite file through diskcache: every
gunicorn worker of the machine shares it, and a game in progress survives a restart of the
dashboard. ``RedisStore`` (``redis_store``, ``DASHBOARD_STORE_URL=redis://…``) keeps them in
Redis, shared by the dashboards of every machine behind one proxy. ``MemoryStore``
(``memory``) keeps them in the process, for tests. All hold serialized games (``format``), so
all are bounded in bytes as well as in age, and a game that is read is the caller's own copy:
only ``put`` and ``update`` change what is stored.
"""
from __future__ import annotations

from dashboard.settings import Settings
from dashboard.store.disk import DiskStore
from dashboard.store.format import (
    FORMAT,
    GameStore,
    StoreBusy,
    StoreUnavailable,
    check_key,
    dumps,
    loads,
)
from dashboard.store.memory import MemoryStore
from dashboard.store.redis_store import RedisStore, connect_redis

MEMORY_URL = "memory:"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

__all__ = ["FORMAT", "REDIS_SCHEMES", "DiskStore", "GameStore", "MemoryStore", "RedisStore",
           "StoreBusy", "StoreUnavailable", "check_key", "connect_redis", "dumps", "loads",
           "open_store"]


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
