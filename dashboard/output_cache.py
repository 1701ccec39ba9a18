"""The model's answers for the photo pool, kept by model version.

The pool does not change while a model version serves, so a photo need not go through the
model twice: its bytes, the AI's top 5 and the Grad-CAM overlay are kept under
``<model version>/<pool digest>/<photo url>``: on disk (diskcache, shared by every worker of
the machine, kept across restarts, bounded in bytes), or in Redis beside the games when the game
store is Redis (shared by every machine; bounded by Redis' maxmemory, and kept for a week). A
new model version or pool has new keys; the old ones age out. Only answers with an overlay
are kept (one made while the explainer was down is made again later).

An entry is a JSON header line and the two JPEGs after it: nothing is unpickled, and an entry
that does not read back (damaged, or written by other code) is a miss.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import diskcache
import redis

from dashboard.settings import Settings
from dashboard.store import REDIS_SCHEMES, connect_redis
from model_api.client import Prediction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedOutput:
    """A pool photo with the AI's answer for it."""
    photo: bytes
    prediction: Prediction  # the top 5
    overlay: bytes  # where the AI looked, drawn on the photo


def encode(answer: CachedOutput) -> bytes:
    header = {"classes": answer.prediction.classes, "scores": answer.prediction.scores,
              "photo": len(answer.photo), "overlay": len(answer.overlay)}
    return json.dumps(header).encode() + b"\n" + answer.photo + answer.overlay


def decode(entry: bytes) -> CachedOutput:
    """Raises ValueError for anything ``encode`` did not write."""
    line, _, body = entry.partition(b"\n")
    try:
        header = json.loads(line)
        classes, scores = header["classes"], header["scores"]
        sizes = int(header["photo"]), int(header["overlay"])
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        raise ValueError("not an answer") from exc
    if (min(sizes) < 0 or len(body) != sum(sizes)
            or not isinstance(classes, list) or not isinstance(scores, list)
            or len(classes) != len(scores)
            or not all(isinstance(c, str) for c in classes)
            or not all(isinstance(s, int | float) for s in scores)):
        raise ValueError("not an answer")
    return CachedOutput(body[:sizes[0]], Prediction(classes, [float(s) for s in scores]),
                  body[sizes[0]:])


class OutputCache(Protocol):
    """OutputCache by scope (model version and pool) and photo URL; every call fails soft."""

    def get(self, scope: str, url: str) -> CachedOutput | None: ...
    def has(self, scope: str, url: str) -> bool: ...
    def claim(self, scope: str, url: str, seconds: float) -> bool: ...
    def put(self, scope: str, url: str, answer: CachedOutput) -> None: ...
    def close(self) -> None: ...

    def of(self, version: int, pool: str) -> VersionOutputs:
        return VersionOutputs(self, version, pool)


def open_output_cache(settings: Settings) -> OutputCache:
    """Where the game store is Redis, there (every machine shares them); else on disk."""
    if settings.store_url.startswith(REDIS_SCHEMES):
        return RedisOutputCache(connect_redis(settings.store_url, settings.store_timeout),
                            settings.store_prefix + "answers:")
    return DiskOutputCache(settings.answer_cache_dir, settings.answer_cache_max_bytes)


class DiskOutputCache(OutputCache):
    """OutputCache by scope (model version and pool) and photo URL. Every call is quick (a local
    SQLite file) and fails soft: a cache that cannot be read or written is a miss, never an
    error."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self._cache = diskcache.Cache(str(directory), size_limit=max_bytes,
                                      eviction_policy="least-recently-stored", timeout=1)

    @staticmethod
    def _key(scope: str, url: str) -> str:
        return f"{scope}/{url}"

    def get(self, scope: str, url: str) -> CachedOutput | None:
        try:
            entry = self._cache.get(self._key(scope, url))
            return decode(entry) if isinstance(entry, bytes) else None
        except (ValueError, diskcache.Timeout, OSError) as exc:
            log.warning("answer cache unreadable", extra={"url": url, "error": repr(exc)})
            return None

    def has(self, scope: str, url: str) -> bool:
        try:
            return self._key(scope, url) in self._cache
        except (diskcache.Timeout, OSError):
            return False

    def claim(self, scope: str, url: str, seconds: float) -> bool:
        """True for the first caller in ``seconds`` (any worker of the machine): the pool's
        warm-up in each worker skips the photos another one is answering."""
        try:
            return self._cache.add(f"claim/{self._key(scope, url)}", b"", expire=seconds)
        except (diskcache.Timeout, OSError):
            return False

    def put(self, scope: str, url: str, answer: CachedOutput) -> None:
        try:
            self._cache.set(self._key(scope, url), encode(answer))
        except (diskcache.Timeout, OSError) as exc:
            log.warning("answer not cached", extra={"url": url, "error": repr(exc)})

    def close(self) -> None:
        self._cache.close()


class RedisOutputCache(OutputCache):
    """The same, in Redis: one key per answer, kept ``TTL_S`` after it was written."""

    TTL_S = 7 * 24 * 3600

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client, self._prefix = client, prefix

    def _key(self, scope: str, url: str) -> str:
        return f"{self._prefix}{scope}/{url}"

    def get(self, scope: str, url: str) -> CachedOutput | None:
        try:
            entry = self._client.get(self._key(scope, url))
            return decode(entry) if isinstance(entry, bytes) else None
        except (ValueError, redis.RedisError) as exc:
            log.warning("answer cache unreadable", extra={"url": url, "error": repr(exc)})
            return None

    def has(self, scope: str, url: str) -> bool:
        try:
            return bool(self._client.exists(self._key(scope, url)))
        except redis.RedisError:
            return False

    def claim(self, scope: str, url: str, seconds: float) -> bool:
        try:
            return bool(self._client.set("claim:" + self._key(scope, url), b"", nx=True,
                                         px=max(1, round(seconds * 1000))))
        except redis.RedisError:
            return False

    def put(self, scope: str, url: str, answer: CachedOutput) -> None:
        try:
            self._client.set(self._key(scope, url), encode(answer), ex=self.TTL_S)
        except redis.RedisError as exc:
            log.warning("answer not cached", extra={"url": url, "error": repr(exc)})

    def close(self) -> None:
        self._client.close()


@dataclass(frozen=True)
class VersionOutputs:
    """The answers of one model version for one pool (its manifest's digest): what a
    preparation reads and adds to."""
    cache: OutputCache
    version: int
    pool: str

    @property
    def scope(self) -> str:
        return f"{self.version}/{self.pool}"

    def get(self, url: str) -> CachedOutput | None:
        return self.cache.get(self.scope, url)

    def has(self, url: str) -> bool:
        return self.cache.has(self.scope, url)

    def claim(self, url: str, seconds: float) -> bool:
        return self.cache.claim(self.scope, url, seconds)

    def put(self, url: str, answer: CachedOutput) -> None:
        self.cache.put(self.scope, url, answer)
