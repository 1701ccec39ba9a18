"""Prepare a game: draw the photos, download them concurrently, then one batched
``:predict`` call for the AI's guesses and where it looked, and one batched ``/explain`` call
to draw the overlays; one event loop, one aiohttp session, a timeout on every call.

The model's ``gradcam`` signature returns the top-5 and the heatmap from one forward pass, and
the explainer draws the heatmaps it is given, so the model runs once per photo. The original
project fetched photo, prediction and explanation one after another for each round, and the
explanation ran the model a second time.
"""
from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass

from dashboard.clients import ExplainerClient, ImageServerClient, Manifest, PoolPhoto, ServiceError
from dashboard.game import Game, Round, choices
from model.client import ModelClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    images: ImageServerClient
    model: ModelClient
    explainer: ExplainerClient


async def fetch_photos(images: ImageServerClient, candidates: list[PoolPhoto],
                       wanted: int) -> list[tuple[PoolPhoto, bytes]]:
    """``wanted`` photos from the candidates in order; one that fails is replaced by the next."""
    fetched: list[tuple[PoolPhoto, bytes]] = []
    queue = iter(candidates)
    while len(fetched) < wanted:
        wave = [p for _, p in zip(range(wanted - len(fetched)), queue, strict=False)]
        if not wave:
            raise ServiceError(f"only {len(fetched)} of {wanted} photos could be loaded")
        results = await asyncio.gather(*(images.photo(p.url) for p in wave),
                                       return_exceptions=True)
        for photo, result in zip(wave, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("photo replaced", extra={"url": photo.url, "error": repr(result)})
            else:
                fetched.append((photo, result))
    return fetched


async def draw_or_none(explainer: ExplainerClient, photos: list[bytes],
                       heatmaps: list[list[list[float]]]) -> list[bytes | None] | None:
    """A failed explainer costs the overlays ("explanation unavailable"), never the game:
    None when it could not be reached at all."""
    try:
        return await explainer.draw(photos, heatmaps)
    except ServiceError as exc:
        log.warning("explanations unavailable", extra={"error": str(exc)})
        return None


async def prepare_game(services: Services, manifest: Manifest, rounds: int,
                       rng: random.Random) -> Game:
    """Raises ``model.client.ModelError`` when the AI cannot answer, ``ServiceError`` when
    too few photos load."""
    candidates = rng.sample(manifest.photos, len(manifest.photos))
    return await prepare_rounds(services, manifest, candidates, rounds, rng)


async def prepare_rounds(services: Services, manifest: Manifest, candidates: list[PoolPhoto],
                         rounds: int, rng: random.Random) -> Game:
    """``rounds`` of the ``candidates`` (in their order) with the AI's answers: the game's
    preparation, and the explorer's batches (pages/explore.py) drawn from one make."""
    chosen = await fetch_photos(services.images, candidates, rounds)
    photos = [data for _, data in chosen]
    cams = await services.model.gradcam(photos)
    drawn = await draw_or_none(services.explainer, photos, [c.heatmap for c in cams])
    overlays = drawn if drawn is not None else [None] * len(photos)
    predictions = [c.prediction for c in cams]
    cars = {car.class_name: car for car in manifest.cars}
    unknown = {c for p in predictions for c in p.classes} - cars.keys()
    if unknown:
        raise ServiceError(f"the model and the photo pool disagree on classes: {sorted(unknown)}")
    return Game([
        Round(photo=data, answer=pool_photo.answer, overlay=overlay, source=pool_photo.url,
              ai_top=[(cars[name], score)
                      for name, score in zip(p.classes, p.scores, strict=True)],
              choices=choices(pool_photo.answer, [cars[name] for name in p.classes],
                              manifest.cars, rng))
        for (pool_photo, data), p, overlay in zip(chosen, predictions, overlays, strict=True)
    ], explained=drawn is not None)
