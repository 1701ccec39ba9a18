"""Games in Redis (``DASHBOARD_STORE_URL=redis://…``): shared by the dashboards of every
machine behind one proxy, each click an optimistic transaction, every call bounded in time."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from dashboard.game import Game
from dashboard.store.format import StoreBusy, StoreUnavailable, T, check_key, dumps, loads

log = logging.getLogger("dashboard.store")


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
