"""The model's answers kept by model version and pool (dashboard/output_cache.py), against the real
services: a kept answer is used with no call to the model, the pool is answered in the
background, and a crowd that takes every game prepared ahead still gets games at once."""
from __future__ import annotations

import random
import secrets
import time
from collections.abc import Iterator

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.clients import ExplainerClient, ImageServerClient, Services
from dashboard.output_cache import (
    CachedOutput,
    DiskOutputCache,
    OutputCache,
    RedisOutputCache,
    decode,
    encode,
    open_output_cache,
)
from dashboard.prepare import model_outputs
from dashboard.runtime import Runtime
from dashboard.settings import Settings
from devtools.servers import closed_url
from model_api.client import ModelClient, Prediction
from tests.data import event_config

ANSWER = CachedOutput(b"\xff\xd8photo", Prediction(["BMW M3 Coupe 2012", "Audi R8 Coupe 2012"],
                                             [0.75, 0.125]), b"\xff\xd8overlay")


@pytest.fixture(params=["disk", "redis"])
def cache(request, tmp_path) -> Iterator[OutputCache]:
    """Both kinds: on disk, and in a real Redis (DASHBOARD_STORE_URL=redis://…)."""
    if request.param == "disk":
        cache = DiskOutputCache(tmp_path / "answers", 10 * 1024 * 1024)
    else:
        server = request.getfixturevalue("redis_server")
        cache = open_output_cache(Settings(store_url=server.url,
                                      store_prefix=f"test-{secrets.token_hex(4)}:"))
        assert isinstance(cache, RedisOutputCache)
    yield cache
    cache.close()


def test_an_answer_reads_back_as_written():
    assert decode(encode(ANSWER)) == ANSWER


@given(st.one_of(st.binary(max_size=300),
                 st.builds(lambda head, body: head.encode() + b"\n" + body,
                           st.text(max_size=100), st.binary(max_size=50)),
                 st.builds(lambda photo, overlay, body: (
                     b'{"classes": [], "scores": [], "photo": %d, "overlay": %d}\n'
                     % (photo, overlay)) + body,
                     st.integers(-5, 5), st.integers(-5, 5), st.binary(max_size=8))))
def test_anything_else_is_refused_with_a_value_error(entry: bytes):
    """A damaged or foreign entry is a miss (ValueError), never another exception, and
    nothing it says can make the photo and overlay overlap or run past the entry."""
    try:
        decoded = decode(entry)
    except ValueError:
        return
    assert decoded.photo + decoded.overlay == entry.partition(b"\n")[2]


def test_answers_are_kept_per_model_version_and_pool(cache: OutputCache):
    v1 = cache.of(1, "pool-a")
    v1.put("/photos/a.jpg", ANSWER)
    assert v1.get("/photos/a.jpg") == ANSWER and v1.has("/photos/a.jpg")
    for other in (cache.of(2, "pool-a"), cache.of(1, "pool-b")):
        assert other.get("/photos/a.jpg") is None and not other.has("/photos/a.jpg")
    assert v1.get("/photos/b.jpg") is None


def test_a_damaged_entry_is_a_miss(tmp_path):
    cache = DiskOutputCache(tmp_path / "answers", 10 * 1024 * 1024)
    cache._cache.set("1/pool/photos/a.jpg", b'{"classes": 1}\nxx')
    assert cache.get("1/pool", "photos/a.jpg") is None
    cache.close()


def test_a_photo_is_claimed_by_one_worker_at_a_time(cache: OutputCache):
    assert cache.of(1, "p").claim("/photos/a.jpg", 60)
    assert not cache.of(1, "p").claim("/photos/a.jpg", 60)  # another worker: skip it
    assert cache.of(1, "p").claim("/photos/b.jpg", 60)
    assert cache.of(2, "p").claim("/photos/a.jpg", 60)  # another model version


async def test_a_kept_answer_needs_no_model(tmp_path, image_server_url, model_server_url,
                                            explainer_url):
    async with aiohttp.ClientSession() as http:
        images = ImageServerClient(http, image_server_url, 10)
        live = Services(images, ModelClient(http, model_server_url),
                        ExplainerClient(http, explainer_url, 10))
        manifest = await images.manifest()
        known = DiskOutputCache(tmp_path / "answers", 50 * 1024 * 1024).of(1, manifest.digest)
        photos = random.Random(3).sample(manifest.photos, 5)
        first, explained = await model_outputs(live, photos, 5, known)
        assert explained and [a.pool_photo for a in first] == photos
        # The model and the explainer are gone now: the kept answers are all it takes.
        gone = Services(images, ModelClient(http, closed_url()),
                        ExplainerClient(http, closed_url(), 10))
        again, explained = await model_outputs(gone, photos, 5, known)
        assert explained
        assert [(a.photo, a.prediction, a.overlay) for a in again] == \
               [(a.photo, a.prediction, a.overlay) for a in first]


def test_a_crowd_gets_games_from_kept_answers(tmp_path, image_server_url, model_server_url,
                                              explainer_url):
    """The pool is answered in the background; once enough is kept, games taken faster than
    they could be prepared still come at once, and the games kept ready follow the demand."""
    runtime = Runtime(Settings(
        model_url=model_server_url, explainer_url=explainer_url,
        image_server_url=image_server_url, store_url="memory:", health_interval=0.2,
        answer_cache_dir=tmp_path / "answers", ready_games=1, ready_games_max=12,
        warm_answers=True, warm_batch=16), event_config(tmp_path))
    try:
        deadline = time.monotonic() + 60
        while runtime.outputs.count() < 40:
            assert time.monotonic() < deadline, "the pool is not being answered"
            time.sleep(0.2)
        taken = []
        for i in range(12):  # faster than a game could be prepared by the model
            started = time.perf_counter()
            game = runtime.games.take_game(f"visitor-{i}", "expert")
            taken.append(time.perf_counter() - started)
            assert game is not None, f"visitor {i} got no game"
            assert game.explained and all(r.overlay for r in game.rounds)
        assert max(taken) < 0.3, taken
        # twelve games taken just now: as many are made ready for the next ones
        deadline = time.monotonic() + 20
        while runtime.games.ready_count() < 12:
            assert time.monotonic() < deadline, runtime.games.ready_count()
            time.sleep(0.1)
    finally:
        runtime.close()


def test_a_busy_loop_shows_preparing_instead_of_failing(tmp_path):
    """"Let's play" while the event loop cannot hand a game over within the render budget:
    no game (the page shows "Preparing your game…" and asks again), never an error."""
    runtime = Runtime(Settings(model_url=closed_url(), explainer_url=closed_url(),
                               image_server_url=closed_url(), store_url="memory:",
                               render_budget=1e-6, warm_answers=False),
                      event_config(tmp_path))
    try:
        assert runtime.games.take_game("visitor", "expert") is None
        assert runtime.store.get("visitor") is None
    finally:
        runtime.close()
