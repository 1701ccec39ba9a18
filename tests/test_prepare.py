"""Preparing a game against the real services: concurrency, replacements and failures."""
from __future__ import annotations

import dataclasses
import random

import aiohttp
import pytest

from dashboard.clients import ExplainerClient, ImageServerClient, PoolPhoto, ServiceError, Services
from dashboard.prepare import fetch_photos, prepare_game
from devtools.servers import free_port
from model_api.client import ModelClient, ModelError


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


def services(http, image_url: str, model_url: str, explainer_url: str) -> Services:
    return Services(ImageServerClient(http, image_url, 10), ModelClient(http, model_url),
                    ExplainerClient(http, explainer_url, 10))


async def test_a_game_has_five_distinct_photos_guesses_and_overlays(
        http, image_server_url, model_server_url, explainer_url):
    s = services(http, image_server_url, model_server_url, explainer_url)
    manifest = await s.images.manifest()
    assert len(manifest.cars) == 196
    game = await prepare_game(s, manifest, 5, random.Random(1))
    assert len(game.rounds) == 5
    assert len({r.photo for r in game.rounds}) == 5
    for played in game.rounds:
        assert played.photo[:2] == b"\xff\xd8" and played.overlay[:2] == b"\xff\xd8"
        assert len(played.ai_top) == 5
        assert played.ai_top[0][1] >= played.ai_top[-1][1]
        assert played.answer in manifest.cars and played.guess is None
    # The AI is good: over five photos it gets some makes right.
    assert sum(r.ai_guess.make == r.answer.make for r in game.rounds) >= 2


async def test_a_photo_that_fails_to_load_is_replaced(http, image_server_url):
    images = ImageServerClient(http, image_server_url, 10)
    manifest = await images.manifest()
    broken = [dataclasses.replace(p, url=p.url.replace(".jpg", "-gone.jpg"))
              for p in manifest.photos[:3]]
    fetched = await fetch_photos(images, broken + manifest.photos[3:10], 5)
    assert [p.url for p, _ in fetched] == [p.url for p in manifest.photos[3:8]]
    with pytest.raises(ServiceError, match="only 1 of 5"):
        await fetch_photos(images, broken + manifest.photos[3:4], 5)


async def test_without_the_explainer_the_game_still_plays(http, image_server_url, model_server_url):
    s = services(http, image_server_url, model_server_url, f"http://127.0.0.1:{free_port()}")
    game = await prepare_game(s, await s.images.manifest(), 5, random.Random(2))
    assert [r.overlay for r in game.rounds] == [None] * 5
    assert all(r.ai_top for r in game.rounds)
    assert not game.explained  # refreshed once the explainer is back


async def test_without_the_model_no_game_is_made(http, image_server_url, explainer_url):
    s = services(http, image_server_url, f"http://127.0.0.1:{free_port()}", explainer_url)
    with pytest.raises(ModelError):
        await prepare_game(s, await s.images.manifest(), 5, random.Random(3))


async def test_an_unreachable_image_server_is_a_service_error(http):
    images = ImageServerClient(http, f"http://127.0.0.1:{free_port()}", 2)
    with pytest.raises(ServiceError):
        await images.manifest()
    with pytest.raises(ServiceError):
        await fetch_photos(images, [PoolPhoto("/photos/00001.jpg", None)], 1)
