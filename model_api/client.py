"""Async client for the model's contract: TensorFlow Serving's REST API.

The dashboard and the explainer both use it, against the official ``tensorflow/serving``
container or the local server in ``model.serving`` alike. It needs aiohttp only (no
TensorFlow). Photos travel as base64 JPEG (``{"b64": ...}``): the graph decodes them.
"""
from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from model_api.contract import MODEL_NAME


class ModelError(Exception):
    """The model service answered with an error (its status), could not be reached (503)
    or did not answer in time (504)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


@dataclass(frozen=True)
class Prediction:
    classes: list[str]  # top-5 class names, best first
    scores: list[float]


@dataclass(frozen=True)
class Judgement:
    """What the model says of its own answer to a photo (exports from version 2 on)."""

    is_car: bool  # False: no car it knows anything of is in the photo
    sure: bool  # the exact car may be named: right ≥ 97 % of the time on photos it never saw
    make: str  # the make with the most probability, summed over its models
    make_score: float
    make_sure: bool  # sure enough to say "maybe a <make>"


@dataclass(frozen=True)
class Judged:
    """``serving_default``'s whole answer for one photo."""

    probabilities: list[float]  # every class's, in the class list's order
    judgement: Judgement | None  # None: a model without one (version 1)


@dataclass(frozen=True)
class GradCam:
    heatmap: list[list[float]]  # [h][w] in [0, 1]
    class_index: int
    class_name: str
    prediction: Prediction  # the top-5 of the same forward pass


def predict_body(photos: Sequence[bytes], signature: str) -> dict:
    """A row-format ``:predict`` request for encoded photos."""
    return {
        "signature_name": signature,
        "instances": [{"b64": base64.b64encode(p).decode("ascii")} for p in photos],
    }


class ModelClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str,
                 model: str = MODEL_NAME, timeout: float = 10.0) -> None:
        self.session = session
        self.url = f"{base_url.rstrip('/')}/v1/models/{model}"
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def _call(self, method: str, url: str, body: dict | None = None) -> dict:
        try:
            async with self.session.request(method, url, json=body, timeout=self.timeout) as r:
                payload = await r.json(content_type=None)
                if r.status != 200:
                    error = payload.get("error", payload) if isinstance(payload, dict) else payload
                    raise ModelError(r.status, str(error)[:500])
                if not isinstance(payload, dict):
                    raise ModelError(502, "model service answered no JSON object")
                return payload
        except TimeoutError as exc:
            message = f"model service did not answer within {self.timeout.total}s"
            raise ModelError(504, message) from exc
        except (aiohttp.ClientError, ValueError) as exc:
            raise ModelError(503, f"model service unavailable: {exc!r}") from exc

    async def status(self) -> list[dict]:
        """Version states, as ``GET /v1/models/<name>`` reports them."""
        return (await self._call("GET", self.url))["model_version_status"]

    async def version(self) -> int | None:
        """The version that answers (the highest AVAILABLE one), None if none does."""
        try:
            versions = [int(v["version"]) for v in await self.status()
                        if v.get("state") == "AVAILABLE"]
        except (ModelError, KeyError, TypeError, ValueError):
            return None
        return max(versions, default=None)

    async def ready(self) -> bool:
        return await self.version() is not None

    async def _predict(self, photos: Sequence[bytes], signature: str, row) -> list:
        """``row(prediction)`` for each row the model answered; a malformed answer is a 502."""
        payload = await self._call("POST", self.url + ":predict", predict_body(photos, signature))
        try:
            return [row(r) for r in payload["predictions"]]
        except (KeyError, TypeError) as exc:
            raise ModelError(502, f"model service answered an unexpected {signature} "
                                  "prediction") from exc

    async def predict(self, photos: Sequence[bytes]) -> list[Prediction]:
        """Top-5 guesses for each photo, in one batched call."""
        return await self._predict(photos, "serving_default",
                                   lambda r: Prediction(r["top_k_classes"], r["top_k_scores"]))

    async def judged(self, photos: Sequence[bytes]) -> list[Judged]:
        """Every class's probability for each photo, in the class list's order (row ``i`` of
        ``classes.csv`` is ``probabilities[i]``: what a share summed over classes needs), and
        the model's judgement of its answer where it gives one."""
        def row(r: dict) -> Judged:
            judgement = Judgement(bool(r["is_car"]), bool(r["sure"]), str(r["make"]),
                                  float(r["make_score"]), bool(r["make_sure"])) \
                if "is_car" in r else None
            return Judged(r["probabilities"], judgement)

        return await self._predict(photos, "serving_default", row)

    async def gradcam(self, photos: Sequence[bytes]) -> list[GradCam]:
        """Grad-CAM heatmap of the top-1 class and the top-5 for each photo, in one batched
        call (one forward pass)."""
        return await self._predict(photos, "gradcam", lambda r: GradCam(
            r["heatmap"], r["class_index"], r["class_name"],
            Prediction(r["top_k_classes"], r["top_k_scores"])))
