"""The real work of ``/explain``: photos → the model's Grad-CAM → overlay JPEGs."""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from explainer import overlay
from model.client import ModelClient, ModelError


@dataclass(frozen=True)
class Explanation:
    class_name: str
    class_index: int
    overlay: bytes  # JPEG, at the photo's size


def _decode(data: bytes) -> np.ndarray | str:
    try:
        return overlay.decode(data)
    except ValueError as exc:
        return str(exc)


async def explain(model: ModelClient, photos: Sequence[bytes], alpha: float,
                  quality: int) -> list[Explanation | str]:
    """One explanation per photo, in order; an undecodable photo gets its error message.

    Photos are decoded first, so only usable ones reach the model, all in one batched
    ``gradcam`` call. Decoding and drawing run in threads (OpenCV releases the GIL), so
    the event loop keeps answering other requests meanwhile. Raises ``ModelError``.
    """
    decoded = await asyncio.gather(*(asyncio.to_thread(_decode, p) for p in photos))
    usable = [i for i, d in enumerate(decoded) if isinstance(d, np.ndarray)]
    cams = await model.gradcam([photos[i] for i in usable]) if usable else []
    if len(cams) != len(usable):
        raise ModelError(502, f"model answered {len(cams)} heatmaps for {len(usable)} photos")
    jpegs = await asyncio.gather(*(
        asyncio.to_thread(overlay.render, decoded[i], np.asarray(cam.heatmap, np.float32),
                          alpha, quality)
        for i, cam in zip(usable, cams, strict=True)
    ))
    explained = iter(Explanation(cam.class_name, cam.class_index, jpeg)
                     for cam, jpeg in zip(cams, jpegs, strict=True))
    return [d if isinstance(d, str) else next(explained) for d in decoded]
