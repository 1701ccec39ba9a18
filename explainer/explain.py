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
    overlay: bytes  # JPEG, at the photo's size
    class_name: str | None = None  # the model's top-1; None when the caller sent the heatmap
    class_index: int | None = None


def _decode(data: bytes) -> np.ndarray | str:
    try:
        return overlay.decode(data)
    except ValueError as exc:
        return str(exc)


async def explain(model: ModelClient, photos: Sequence[bytes],
                  heatmaps: Sequence[np.ndarray | None], alpha: float,
                  quality: int) -> list[Explanation | str]:
    """One explanation per photo, in order; an undecodable photo gets its error message.

    A photo that comes with its heatmap (a client that already called the model's
    ``gradcam`` signature, like the game) is only drawn. The others are decoded first, so
    only usable ones reach the model, all in one batched ``gradcam`` call. Decoding and
    drawing run in threads (OpenCV releases the GIL), so the event loop keeps answering other
    requests meanwhile. Raises ``ModelError``.
    """
    decoded = await asyncio.gather(*(asyncio.to_thread(_decode, p) for p in photos))
    usable = [i for i, d in enumerate(decoded) if isinstance(d, np.ndarray)]
    asked = [i for i in usable if heatmaps[i] is None]
    cams = await model.gradcam([photos[i] for i in asked]) if asked else []
    if len(cams) != len(asked):
        raise ModelError(502, f"model answered {len(cams)} heatmaps for {len(asked)} photos")
    found = dict(zip(asked, cams, strict=True))
    maps = {i: np.asarray(found[i].heatmap, np.float32) if i in found else heatmaps[i]
            for i in usable}
    jpegs = await asyncio.gather(*(
        asyncio.to_thread(overlay.render, decoded[i], maps[i], alpha, quality) for i in usable))
    drawn = dict(zip(usable, jpegs, strict=True))
    return [
        decoded[i] if i not in drawn else
        Explanation(drawn[i], found[i].class_name, found[i].class_index) if i in found else
        Explanation(drawn[i])
        for i in range(len(photos))
    ]
