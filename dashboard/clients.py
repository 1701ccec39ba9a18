"""aiohttp clients of the image server and the explainer (the model's is ``model_api.client``),
and ``Services``, the three together as the dashboard's loop uses them.

All share one ``aiohttp.ClientSession`` per event loop and put a timeout on every call.
"""
from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from dashboard.game import Car
from dashboard.settings import Settings
from model_api.client import ModelClient, ModelError


class ServiceError(Exception):
    """A service failed, answered an error or was too slow."""


# What a call to the back-ends raises when it cannot be answered now.
NOT_READY = (ModelError, ServiceError, TimeoutError)


@dataclass(frozen=True)
class PoolPhoto:
    url: str  # relative to the image server
    answer: Car


@dataclass(frozen=True)
class Manifest:
    photos: list[PoolPhoto]
    cars: list[Car]  # every class the model knows: what a visitor can guess
    digest: str = ""  # names this pool: a photo URL means the same photo only within it


@dataclass(frozen=True)
class Mistake:
    """A pool photo the AI named wrongly in its evaluation."""

    url: str  # relative to the image server
    truth: str  # class names, as the model names them
    top: list[tuple[str, float]]  # the AI's top 5 with its probabilities, best first


@dataclass(frozen=True)
class ModelCard:
    """The model's evaluation on its test split (``model.evaluate``), as the image server
    publishes it: what the model page shows, with nothing hard-coded."""

    photos: int  # test photos, never trained on
    top1: float
    top5: float
    make_accuracy: float
    input_size: tuple[int, int]  # the view the model sees: (width, height) pixels
    backbone: str
    recipe: dict[str, str]  # the training command's arguments
    split: dict[str, int]  # photos per split
    train_minutes: float
    per_class: dict[str, float]
    confused: list[tuple[str, str, int]]  # (truth, the AI's guess, how often)
    mistakes: list[Mistake]
    trust: Trust | None = None  # a model that judges its own answers (version 2 on)


@dataclass(frozen=True)
class Trust:
    """How far the model's confidence can be trusted, on the same test photos
    (``model.trust.report``)."""

    ece_before: float  # expected calibration error, 15 bins, before and after calibration
    ece_after: float
    named_coverage: float  # share of photos where it is sure enough to name the exact car
    named_precision: float  # how often it is right when it does
    cars_accepted: float  # pool photos the car detector takes for cars


async def is_up(session: aiohttp.ClientSession, url: str, timeout: float) -> bool:
    """Does ``url`` answer 200 within ``timeout``? (A health check: never raises.)"""
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as r:
            return r.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


class ImageServerClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, timeout: float) -> None:
        self.session, self.base_url = session, base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def _get(self, path: str) -> aiohttp.ClientResponse:
        try:
            response = await self.session.get(self.base_url + path, timeout=self.timeout)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ServiceError(f"image server unavailable: {exc!r}") from exc
        if response.status != 200:
            response.release()
            raise ServiceError(f"image server answered {response.status} for {path}")
        return response

    async def alive(self, timeout: float) -> bool:
        return await is_up(self.session, self.base_url + "/health", timeout)

    async def manifest(self) -> Manifest:
        async with await self._get("/manifest.json") as r:
            try:
                body = await r.read()
                data = json.loads(body)
                return Manifest(
                    photos=[PoolPhoto(p["url"], _car(p)) for p in data["photos"]],
                    cars=[_car(c) for c in data["classes"]],
                    digest=hashlib.sha256(body).hexdigest()[:16],
                )
            except (aiohttp.ContentTypeError, KeyError, TypeError, ValueError) as exc:
                raise ServiceError(f"malformed manifest: {exc!r}") from exc

    async def model_card(self) -> ModelCard:
        async with await self._get("/model-card.json") as r:
            try:
                data = await r.json()
                training = data["training"]
                return ModelCard(
                    photos=int(data["photos"]), top1=float(data["top1"]),
                    top5=float(data["top5"]), make_accuracy=float(data["make_accuracy"]),
                    input_size=(int(data["input_size"]["width"]),
                                int(data["input_size"]["height"])),
                    backbone=str(training["args"]["variant"]),
                    recipe={str(k): str(v) for k, v in training["args"].items()},
                    split={str(k): int(v) for k, v in training["photos"].items()},
                    train_minutes=float(training["train_minutes"]),
                    per_class={str(k): float(v) for k, v in data["per_class_accuracy"].items()},
                    confused=[(c["true"], c["predicted"], int(c["count"]))
                              for c in data["most_confused"]],
                    mistakes=[Mistake(m["url"], m["true"],
                                      [(t["class_name"], float(t["score"])) for t in m["top5"]])
                              for m in data["mistakes"]],
                    trust=Trust(**{f: float(data["trust"][f]) for f in (
                        "ece_before", "ece_after", "named_coverage", "named_precision",
                        "cars_accepted")}) if "trust" in data else None,
                )
            except (aiohttp.ContentTypeError, KeyError, TypeError, ValueError) as exc:
                raise ServiceError(f"malformed model card: {exc!r}") from exc

    async def photo(self, url: str) -> bytes:
        async with await self._get(url) as r:
            try:
                return await r.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise ServiceError(f"photo {url} broke off: {exc!r}") from exc


def _car(entry: dict) -> Car:
    return Car(entry["class_name"], entry["make"], entry["model"], int(entry["year"]))


class ExplainerClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, timeout: float) -> None:
        self.session, self.base_url = session, base_url.rstrip("/")
        self.url = self.base_url + "/explain"
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def alive(self, timeout: float) -> bool:
        return await is_up(self.session, self.base_url + "/health", timeout)

    async def draw(self, photos: Sequence[bytes],
                   heatmaps: Sequence[list[list[float]]]) -> list[bytes | None]:
        """Overlay JPEGs of the model's own heatmaps, in one batched call (the explainer only
        draws them: no second forward pass); None for a photo it could not draw."""
        body = {"instances": [{"b64": base64.b64encode(p).decode("ascii"), "heatmap": h}
                              for p, h in zip(photos, heatmaps, strict=True)]}
        try:
            async with self.session.post(self.url, json=body, timeout=self.timeout) as r:
                if r.status != 200:
                    raise ServiceError(f"explainer answered {r.status}: {await r.text()}")
                rows = (await r.json())["explanations"]
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as exc:
            raise ServiceError(f"explainer unavailable: {exc!r}") from exc
        return [base64.b64decode(row["overlay"]["b64"]) if "overlay" in row else None
                for row in rows]


@dataclass(frozen=True)
class Services:
    images: ImageServerClient
    model: ModelClient
    explainer: ExplainerClient

    @classmethod
    def connect(cls, session: aiohttp.ClientSession, settings: Settings) -> Services:
        """The three clients over ``session``, at the addresses ``settings`` give."""
        timeout = settings.request_timeout
        return cls(ImageServerClient(session, settings.image_server_url, timeout),
                   ModelClient(session, settings.model_url, timeout=timeout),
                   ExplainerClient(session, settings.explainer_url, timeout))
