"""Prepare a game: draw the photos, download them concurrently, then one batched
``:predict`` call for the AI's guesses and where it looked, and one batched ``/explain`` call
to draw the overlays; one event loop, one aiohttp session, a timeout on every call. Photos the
model has answered before (under the version now serving) come from ``dashboard.output_cache``
instead, with no call at all.

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

from dashboard.clients import (
    ExplainerClient,
    ImageServerClient,
    Manifest,
    PoolPhoto,
    ServiceError,
    Services,
)
from dashboard.game import Game, Round, choices
from dashboard.output_cache import CachedOutput, VersionOutputs
from model_api.client import GradCam, Prediction

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class PhotoOutput:
    """A pool photo with the AI's answer; ``overlay`` is None when the explainer failed."""
    pool_photo: PoolPhoto
    photo: bytes
    prediction: Prediction
    overlay: bytes | None


async def run_model(services: Services, candidates: list[PoolPhoto], wanted: int,
              ) -> tuple[list[PhotoOutput], bool]:
    """The first ``wanted`` candidates that load, answered by the model in one batch and
    drawn by the explainer in one batch; and whether they could be drawn."""
    chosen = await fetch_photos(services.images, candidates, wanted)
    photos = [data for _, data in chosen]
    cams = await services.model.gradcam(photos)
    drawn = await draw_or_none(services.explainer, photos, [c.heatmap for c in cams])
    overlays = drawn if drawn is not None else [None] * len(photos)
    return [PhotoOutput(pool_photo, data, cam.prediction, overlay)
            for (pool_photo, data), cam, overlay in zip(chosen, cams, overlays, strict=True)
            ], drawn is not None


async def model_outputs(services: Services, candidates: list[PoolPhoto], wanted: int,
                 known: VersionOutputs | None) -> tuple[list[PhotoOutput], bool]:
    """``run_model`` for the first ``wanted`` candidates, where ``known`` has no answer for them
    yet; what the model answers now (with its overlay) is kept there."""
    head = candidates[:wanted]
    found = {p.url: a for p in head if known and (a := known.get(p.url)) is not None}
    answered = [PhotoOutput(p, a.photo, a.prediction, a.overlay)
                for p in head if (a := found.get(p.url)) is not None]
    explained = True
    if len(answered) < wanted:
        fresh, explained = await run_model(services, [p for p in candidates if p.url not in found],
                                     wanted - len(answered))
        answered += fresh
        if known is not None:
            for a in fresh:
                if a.overlay is not None:
                    known.put(a.pool_photo.url, CachedOutput(a.photo, a.prediction, a.overlay))
    return answered, explained


async def explain_one(services: Services, model_jpeg: bytes, preview_jpeg: bytes,
                      ) -> tuple[GradCam, bytes | None]:
    """One photo through the model (top 5 and heatmap), its heatmap drawn on
    ``preview_jpeg``; the overlay is None when the explainer could not draw it."""
    cam = (await services.model.gradcam([model_jpeg]))[0]
    drawn = await draw_or_none(services.explainer, [preview_jpeg], [cam.heatmap])
    return cam, drawn[0] if drawn is not None else None


async def prepare_game(services: Services, manifest: Manifest, rounds: int,
                       rng: random.Random, known: VersionOutputs | None = None) -> Game:
    """Raises ``model_api.client.ModelError`` when the AI cannot answer, ``ServiceError`` when
    too few photos load."""
    candidates = rng.sample(manifest.photos, len(manifest.photos))
    return await prepare_rounds(services, manifest, candidates, rounds, rng, known)


async def prepare_rounds(services: Services, manifest: Manifest, candidates: list[PoolPhoto],
                         rounds: int, rng: random.Random, known: VersionOutputs | None = None,
                         ) -> Game:
    """``rounds`` of the ``candidates`` (in their order) with the AI's answers: the game's
    preparation, and the explorer's batches (pages/explore.py) drawn from one make."""
    answered, explained = await model_outputs(services, candidates, rounds, known)
    return game_of(manifest, answered, explained, rng)


def game_of(manifest: Manifest, answered: list[PhotoOutput], explained: bool,
            rng: random.Random) -> Game:
    """The rounds of these answered photos; a class the pool does not know is a ServiceError
    (the model and the pool disagree)."""
    cars = {car.class_name: car for car in manifest.cars}
    unknown = {c for a in answered for c in a.prediction.classes} - cars.keys()
    if unknown:
        raise ServiceError(f"the model and the photo pool disagree on classes: {sorted(unknown)}")
    return Game([
        Round(photo=a.photo, answer=a.pool_photo.answer, overlay=a.overlay,
              source=a.pool_photo.url,
              ai_top=[(cars[name], score)
                      for name, score in zip(a.prediction.classes, a.prediction.scores,
                                             strict=True)],
              choices=choices(a.pool_photo.answer, [cars[name] for name in a.prediction.classes],
                              manifest.cars, rng))
        for a in answered
    ], explained=explained)
