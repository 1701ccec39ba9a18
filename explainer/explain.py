"""The real work of ``/explain``: photos → the model's Grad-CAM → overlay JPEGs."""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from common.images import NotAnImage, PhotoRejected, TooManyPixels
from explainer import overlay
from model_api.client import GradCam, ModelClient, ModelError

# The model's refusals of one photo, in the caller's words (TF Serving's describe its graph).
_REFUSED = {
    400: lambda: NotAnImage("the model could not decode this photo: its image data is corrupt "
                            "or truncated"),
    413: lambda: TooManyPixels("the photo is too large for the model"),
}


@dataclass(frozen=True)
class Explanation:
    overlay: bytes  # JPEG, at the photo's size
    class_name: str | None = None  # the model's top-1; None when the caller sent the heatmap
    class_index: int | None = None


def _decode(data: bytes, max_pixels: int) -> np.ndarray | PhotoRejected:
    try:
        return overlay.decode(data, max_pixels)
    except PhotoRejected as exc:
        return exc


async def _gradcams(model: ModelClient, photos: Sequence[bytes]) -> list[GradCam | PhotoRejected]:
    """The model's Grad-CAM of each photo in one batched call; if the model refuses the batch,
    photo by photo, so that only the photos it refuses fail.

    A photo can pass OpenCV and still fail the model's decoder (a truncated JPEG, say). The
    retries go one at a time: TF Serving's batching would merge concurrent calls again.
    """
    try:
        cams: list[GradCam | PhotoRejected] = list(await model.gradcam(photos))
    except ModelError as exc:
        if exc.status not in _REFUSED:
            raise
        if len(photos) == 1:
            return [_REFUSED[exc.status]()]
        cams = []
        for photo in photos:
            cams += await _gradcams(model, [photo])
    if len(cams) != len(photos):
        raise ModelError(502, f"model answered {len(cams)} heatmaps for {len(photos)} photos")
    return cams


async def explain(model: ModelClient, photos: Sequence[bytes],
                  heatmaps: Sequence[np.ndarray | None], alpha: float,
                  quality: int, max_pixels: int) -> list[Explanation | PhotoRejected]:
    """One explanation per photo, in order; a photo that cannot be used gets its refusal.

    A photo that comes with its heatmap (a client that already called the model's
    ``gradcam`` signature, like the game) is only drawn. The others are decoded first, so
    only usable ones reach the model, all in one batched ``gradcam`` call. Decoding and
    drawing run in threads (OpenCV releases the GIL), so the event loop keeps answering other
    requests meanwhile. Raises ``ModelError`` when the model fails (not a photo).
    """
    decoded = await asyncio.gather(*(asyncio.to_thread(_decode, p, max_pixels) for p in photos))
    results: list[Explanation | PhotoRejected | None] = [
        d if isinstance(d, PhotoRejected) else None for d in decoded]
    asked = [i for i, r in enumerate(results) if r is None and heatmaps[i] is None]
    cams: dict[int, GradCam] = {}
    if asked:
        for i, cam in zip(asked, await _gradcams(model, [photos[i] for i in asked]), strict=True):
            if isinstance(cam, PhotoRejected):
                results[i] = cam
            else:
                cams[i] = cam
    drawn = [i for i, r in enumerate(results) if r is None]
    maps = [np.asarray(cams[i].heatmap, np.float32) if i in cams else heatmaps[i] for i in drawn]
    jpegs = await asyncio.gather(*(
        asyncio.to_thread(overlay.render, decoded[i], m, alpha, quality)
        for i, m in zip(drawn, maps, strict=True)))
    for i, jpeg in zip(drawn, jpegs, strict=True):
        cam = cams.get(i)
        results[i] = (Explanation(jpeg, cam.class_name, cam.class_index) if cam
                      else Explanation(jpeg))
    return results  # type: ignore[return-value]  # every slot is filled by now
