"""The game store: the in-memory one, the on-disk one (real diskcache/SQLite in a temporary
directory, real processes) and the Redis one (a real redis-server on a loopback port,
``tests/redis_server.py``): the same contract for all, their byte and age bounds, atomic updates
and damaged entries, and a Redis that is down or frozen."""
from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
import time
from pathlib import Path

import diskcache
import pytest
import redis

from dashboard.game import Car, Game, Round
from dashboard.settings import Settings
from dashboard.store import (
    FORMAT,
    DiskStore,
    MemoryStore,
    RedisStore,
    StoreBusy,
    StoreUnavailable,
    connect_redis,
    dumps,
    loads,
    open_store,
)
from tests.redis_server import Server, started

M3 = Car("BMW M3 Coupe 2012", "BMW", "M3 Coupe", 2012)
X5 = Car("BMW X5 SUV 2007", "BMW", "X5 SUV", 2007)
R8 = Car("Audi R8 Coupe 2012", "Audi", "R8 Coupe", 2012)
CARS = (M3, X5, R8)
MiB = 2**20
SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter, as a gunicorn worker is


def make_game(photo_bytes: int = 30_000, overlay_bytes: int = 14_000) -> Game:
    """A game of a real game's size (~220 KB): 5 photos and 5 overlays, incompressible."""
    return Game([Round(photo=os.urandom(photo_bytes), answer=CARS[i % 3],
                       ai_top=[(car, 0.3) for car in CARS], overlay=os.urandom(overlay_bytes))
                 for i in range(5)])


def disk_usage(directory: Path) -> int:
    """What the store's directory takes on disk (allocated blocks, every file)."""
    return sum(max(p.stat().st_size, p.stat().st_blocks * 512)
               for p in directory.rglob("*") if p.is_file())


def open_disk(directory: Path, max_bytes: int = 64 * MiB, ttl: float = 600,
              timeout: float = 2.0) -> DiskStore:
    return DiskStore(directory, max_bytes=max_bytes, ttl=ttl, timeout=timeout)


def open_redis(url: str, prefix: str, max_bytes: int = 64 * MiB, ttl: float = 600,
               timeout: float = 2.0) -> RedisStore:
    return RedisStore(connect_redis(url, timeout), max_bytes=max_bytes, ttl=ttl, prefix=prefix)


@pytest.fixture
def shared_redis(redis_server: Server) -> Server:
    """The session's Redis server (conftest.py; tests/redis_server.py starts it)."""
    return redis_server


@pytest.fixture(params=["memory", "disk", "redis"])
def kind(request) -> str:
    return request.param


@pytest.fixture
def where(kind, tmp_path, request) -> tuple[str, str]:
    """Where a test's stores of ``kind`` keep their games: a directory, or the session's Redis
    and a key prefix of the test's own (so tests never see each other's games)."""
    if kind == "redis":
        server = request.getfixturevalue("redis_server")
        return server.url, f"test-{request.node.name}-{os.getpid()}:"
    return str(tmp_path / "games"), ""


def new_store(kind: str, where: tuple[str, str], max_bytes: int = 64 * MiB, ttl: float = 600):
    if kind == "memory":
        return MemoryStore(max_bytes=max_bytes, ttl=ttl)
    if kind == "redis":
        return open_redis(*where, max_bytes=max_bytes, ttl=ttl)
    return open_disk(Path(where[0]), max_bytes, ttl)


def stored_keys(kind: str, where: tuple[str, str], store) -> set[str]:
    """The session ids the store holds, read past the store itself."""
    if kind == "memory":
        return set(store._blobs)
    if kind == "redis":
        raw = redis.Redis.from_url(where[0])
        return {k.decode().removeprefix(where[1]) for k in raw.keys(where[1] + "*")}
    return set(diskcache.Cache(where[0]))


def test_get_put_update_delete(kind, where):
    store = new_store(kind, where)
    game = make_game()
    store.put("a", game)
    store.put("b", make_game())
    got = store.get("a")
    assert got == game and got is not game  # the caller's copy: photos and all
    got.current = 3  # changing a copy changes nothing stored
    assert store.get("a").current == 0
    assert store.update("a", lambda g: g.guess(0, M3)) is True
    assert store.update("a", lambda g: g.guess(0, X5)) is False  # the guess stands
    assert store.get("a").rounds[0].guess == M3
    assert store.get("b").rounds[0].guess is None
    assert store.get("c") is None
    assert store.update("c", lambda g: g.guess(0, M3)) is None
    store.delete("a")
    store.delete("a")  # deleting what is not there is fine
    assert store.get("a") is None and store.get("b") is not None


@pytest.mark.parametrize("key", [
    "", "a" * 65, "x" * 20_000_000, "a/b", "../a", "a b", "a\n", "é", "a\x00",
    None, 5, 1.5, b"a", ["a"], {"a": 1},
])
def test_keys_that_are_not_short_plain_strings_are_refused(kind, where, key):
    store = new_store(kind, where)
    for call in (lambda: store.put(key, make_game(10, 10)), lambda: store.get(key),
                 lambda: store.update(key, lambda g: g.guess(0, M3)),
                 lambda: store.delete(key)):
        with pytest.raises(ValueError):
            call()
    assert stored_keys(kind, where, store) == set()


def test_memory_store_is_bounded_in_bytes_least_recently_used_first():
    bound = 2 * MiB
    store = MemoryStore(max_bytes=bound, ttl=600)
    game_bytes = len(dumps(make_game()))
    store.put("kept", make_game())
    for i in range(30):  # ~6.6 MB through a 2 MiB store; "kept" is played all along
        store.put(f"g{i}", make_game())
        assert store.size <= bound
        assert store.get("kept") is not None
    assert store.get("g29") is not None  # the newest stays
    assert store.get("g0") is None and store.get("g20") is None  # the oldest unused went
    assert store.size > bound - 2 * game_bytes  # full, not emptied


def test_disk_store_directory_stays_within_its_byte_bound(tmp_path):
    bound = 8 * MiB
    directory = tmp_path / "games"
    store = open_disk(directory, bound)
    game_bytes = len(dumps(make_game()))
    store.put("kept", make_game())
    peak = 0
    for i in range(60):  # ~13 MB through an 8 MiB store; "kept" is played all along
        store.put(f"g{i}", make_game())
        assert store.update("kept", lambda g: g.guess(0, M3)) is not None
        peak = max(peak, disk_usage(directory))
    assert peak <= bound, f"the directory reached {peak} bytes"
    assert store.get("g59") is not None  # the newest stays
    assert store.get("g0") is None and store.get("g20") is None  # the oldest unused went
    assert len(diskcache.Cache(str(directory))) * game_bytes > bound / 2  # full, not emptied


def test_a_game_larger_than_the_store_is_refused(kind, where):
    store = new_store(kind, where, max_bytes=100_000)
    with pytest.raises(ValueError):
        store.put("a", make_game())
    assert store.get("a") is None


def test_games_unused_for_the_ttl_are_gone_and_use_keeps_them(kind, where):
    store = new_store(kind, where, ttl=1.0)
    store.put("played", make_game(100, 100))
    store.put("left", make_game(100, 100))
    time.sleep(0.6)
    assert store.get("played") is not None  # a read is a use
    time.sleep(0.6)
    assert store.get("left") is None  # unused for 1.2 s
    assert store.update("played", lambda g: g.guess(0, M3))  # used 0.6 s ago: still there
    time.sleep(1.1)
    assert store.get("played") is None


def test_expired_games_are_deleted_from_disk_by_later_writes(tmp_path):
    store = open_disk(tmp_path / "games", ttl=0.3)
    for key in ("a", "b", "c"):
        store.put(key, make_game(100, 100))
    time.sleep(0.4)
    store.put("d", make_game(100, 100))  # each write drops up to two expired games
    store.put("e", make_game(100, 100))
    assert set(diskcache.Cache(str(tmp_path / "games"))) == {"d", "e"}


def count_up(store, key: str, times: int) -> None:
    for _ in range(times):
        store.update(key, lambda g: setattr(g, "current", g.current + 1))


def test_updates_from_many_threads_are_all_kept_and_a_guess_is_recorded_once(kind, where):
    store = new_store(kind, where)
    store.put("counter", make_game())
    store.put("clicks", make_game())
    threads = [threading.Thread(target=count_up, args=(store, "counter", 20)) for _ in range(6)]
    results: list[bool] = []
    threads += [threading.Thread(target=lambda c=c: results.append(
        store.update("clicks", lambda g: g.guess(0, c)))) for c in CARS * 6]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counted = store.get("counter").current
    assert counted == 6 * 20
    assert results.count(True) == 1 and store.get("clicks").rounds[0].guess in CARS


def process_play(kind: str, where: tuple[str, str], start, car: Car, results) -> None:
    """A second gunicorn worker (or dashboard on another machine): counts up, then a click
    lands together with the others'."""
    store = new_store(kind, where)
    start.wait()
    count_up(store, "counter", 100)
    start.wait()
    results.put((car, store.update("clicks", lambda g: g.guess(0, car))))


@pytest.mark.parametrize("kind", ["disk", "redis"])
def test_updates_from_three_processes_are_all_kept_and_a_guess_is_recorded_once(kind, where):
    store = new_store(kind, where)
    store.put("counter", make_game())
    store.put("clicks", make_game())
    start, results = SPAWN.Barrier(3), SPAWN.Queue()
    processes = [SPAWN.Process(target=process_play, args=(kind, where, start, car, results))
                 for car in CARS]
    for p in processes:
        p.start()
    answers = dict(results.get(timeout=30) for _ in processes)
    for p in processes:
        p.join(5)
        assert p.exitcode == 0
    counted = store.get("counter").current
    assert counted == 300
    assert sorted(answers.values()) == [False, False, True]
    winner = next(car for car, won in answers.items() if won)
    assert store.get("clicks").rounds[0].guess == winner


def process_put_and_die(directory: Path, game: Game) -> None:
    open_disk(directory).put("s", game)
    os.kill(os.getpid(), 9)  # a dashboard worker killed: no close, no clean exit


def test_a_game_survives_the_process_that_stored_it_and_a_reopened_store(tmp_path):
    directory = tmp_path / "games"
    game = make_game()
    process = SPAWN.Process(target=process_put_and_die, args=(directory, game))
    process.start()
    process.join(30)
    assert process.exitcode == -9
    store = open_disk(directory)
    assert store.get("s") == game  # another process sees it
    store.update("s", lambda g: g.guess(0, M3))
    store.close()
    assert open_disk(directory).get("s").rounds[0].guess == M3  # reopened: a restart


def test_a_store_locked_too_long_by_a_frozen_writer_raises_store_busy(tmp_path):
    directory = tmp_path / "games"
    frozen, waiting = open_disk(directory), open_disk(directory, timeout=0.3)
    frozen.put("s", make_game(100, 100))
    inside, release = threading.Event(), threading.Event()

    def freeze(game: Game) -> None:
        inside.set()
        release.wait(5)

    holder = threading.Thread(target=frozen.update, args=("s", freeze))
    holder.start()
    try:
        assert inside.wait(5)
        began = time.monotonic()
        with pytest.raises(StoreBusy):
            waiting.get("s")
        assert time.monotonic() - began < 2
    finally:
        release.set()
        holder.join()
    assert waiting.get("s") is not None


class Planted:
    """A crafted entry: unpickling it with plain pickle would create a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def damaged_blobs(marker: Path) -> dict[str, object]:
    good = dumps(make_game(100, 100))
    return {
        "garbage": b"\x00not a game",
        "empty": b"",
        "truncated": good[: len(good) // 2],
        "old_format": b"game:" + bytes(8) + good[len(FORMAT):],  # saved by other code
        "not_a_game": FORMAT + pickle.dumps({"rounds": []}),
        "crafted": FORMAT + pickle.dumps(Planted(marker)),
        "not_bytes": 12345,
        "pickled_by_diskcache": ["a", "list"],
    }


def test_damaged_entries_read_as_no_game_and_are_dropped(tmp_path):
    marker = tmp_path / "ran"
    directory = tmp_path / "games"
    store = open_disk(directory)
    with diskcache.Cache(str(directory)) as raw:
        for key, blob in damaged_blobs(marker).items():
            raw.set(key, blob)
    for key in damaged_blobs(marker):
        assert store.get(key) is None, key
        assert store.update(key, lambda g: g.guess(0, M3)) is None, key
    assert len(diskcache.Cache(str(directory))) == 0
    assert not marker.exists()
    store.put("ok", make_game(100, 100))
    assert store.get("ok") is not None


def test_damaged_redis_entries_read_as_no_game_and_are_dropped(shared_redis, tmp_path):
    marker = tmp_path / "ran"
    prefix = "damaged:"
    store = open_redis(shared_redis.url, prefix)
    raw = shared_redis.client()
    for key, blob in damaged_blobs(marker).items():
        if isinstance(blob, list):
            raw.rpush(prefix + key, *blob)  # not even a string: Redis's WRONGTYPE
        else:
            raw.set(prefix + key, blob)
    for key in damaged_blobs(marker):
        assert store.get(key) is None, key
        assert store.update(key, lambda g: g.guess(0, M3)) is None, key
    assert raw.keys(prefix + "*") == []
    assert not marker.exists()
    store.put("ok", make_game(100, 100))
    assert raw.get(prefix + "ok") == dumps(store.get("ok"))  # the same bytes as on disk


def test_damaged_blobs_load_as_none(tmp_path):
    marker = tmp_path / "ran"
    for key, blob in damaged_blobs(marker).items():
        assert loads(blob) is None, key
    assert not marker.exists()
    game = make_game(100, 100)
    assert loads(dumps(game)) == game


def test_an_unreadable_database_file_is_replaced_by_an_empty_store(tmp_path):
    directory = tmp_path / "games"
    open_disk(directory).put("a", make_game(100, 100))
    (directory / "cache.db").write_bytes(os.urandom(50_000))
    for name in ("cache.db-wal", "cache.db-shm"):
        (directory / name).unlink(missing_ok=True)
    store = open_disk(directory)
    assert store.get("a") is None
    store.put("b", make_game(100, 100))
    assert store.get("b") is not None


def test_open_store_chooses_by_url(tmp_path, shared_redis):
    memory = open_store(Settings(store_url="memory:"))
    assert isinstance(memory, MemoryStore)
    disk = open_store(Settings(store_url="", store_dir=tmp_path / "games", game_ttl=60))
    assert isinstance(disk, DiskStore) and (tmp_path / "games" / "cache.db").exists()
    shared = open_store(Settings(store_url=shared_redis.url, store_prefix="deployment-a:"))
    assert isinstance(shared, RedisStore)
    shared.put("s", make_game(100, 100))
    assert shared_redis.client().exists("deployment-a:s")
    with pytest.raises(ValueError, match="redis://") as error:
        open_store(Settings(store_url="mongodb://user:secret@localhost:27017/0"))
    assert "secret" not in str(error.value)


def test_deployments_sharing_a_redis_do_not_see_each_others_games(shared_redis):
    a, b = open_redis(shared_redis.url, "fair-a:"), open_redis(shared_redis.url, "fair-b:")
    a.put("s", make_game(100, 100))
    assert b.get("s") is None and b.update("s", lambda g: g.guess(0, M3)) is None
    b.delete("s")
    assert a.get("s") is not None


@pytest.mark.quiet  # Redis's LRU clock in whole seconds: a loaded machine blurs the phases
def test_redis_is_bounded_by_its_maxmemory_least_recently_used_first():
    """Redis's LRU clock counts whole seconds: games played within one second are equally
    recent to it, so the test plays in three phases a second apart."""
    bound = 8 * MiB
    with started(maxmemory=bound) as server:
        store = open_redis(server.url, "g:")
        info = server.client()
        game_bytes = len(dumps(make_game()))
        store.put("kept", make_game())
        peak = 0
        for phase in range(3):  # ~13 MB through an 8 MiB Redis; "kept" is played all along
            if phase:
                time.sleep(1.1)
            for i in range(20 * phase, 20 * phase + 20):
                store.put(f"g{i}", make_game())
                assert store.update("kept", lambda g: g.guess(0, M3)) is not None
                peak = max(peak, info.info("memory")["used_memory"])
        assert peak <= bound + game_bytes, f"Redis reached {peak} bytes"  # one write beyond
        assert all(store.get(f"g{i}") is not None for i in range(40, 60))  # the newest stay
        assert all(store.get(f"g{i}") is None for i in range(20))  # the oldest unused went
        assert info.dbsize() * game_bytes > bound / 2  # full, not emptied


def test_a_redis_that_is_down_or_frozen_is_unavailable_within_the_timeout_then_back():
    with started() as server:
        store = open_redis(server.url, "t:", timeout=0.5)
        store.put("s", make_game(100, 100))
        server.proc.send_signal(signal.SIGSTOP)  # frozen: connected, never answers
        try:
            for call in (lambda: store.get("s"), lambda: store.put("s", make_game(100, 100)),
                         lambda: store.update("s", lambda g: g.guess(0, M3)),
                         lambda: store.delete("s")):
                began = time.monotonic()
                with pytest.raises(StoreUnavailable):
                    call()
                assert time.monotonic() - began < 1.5  # one timeout, no retries of it
        finally:
            server.proc.send_signal(signal.SIGCONT)
        assert store.get("s") is not None  # answering again: the same client recovers
        assert isinstance(StoreUnavailable(), StoreBusy)  # callers treat both alike
    began = time.monotonic()
    with pytest.raises(StoreUnavailable):  # down: refused at once
        store.get("s")
    assert time.monotonic() - began < 1.5
    store.close()
