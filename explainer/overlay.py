"""Grad-CAM heatmap → picture: decode, resize, colour-map, blend, encode.

Every array here is RGB. OpenCV works in BGR, so each OpenCV call that reads or writes
colour (``imdecode``, ``applyColorMap``, ``imencode``) is paired with an explicit conversion:
the blog project this game started from drew its overlays with red and blue swapped.
"""
from __future__ import annotations

import cv2
import numpy as np

from common.images import NotAnImage, check_header


def decode(data: bytes, max_pixels: int) -> np.ndarray:
    """Photo bytes → RGB uint8 [h, w, 3]; ``PhotoRejected`` if they are not a usable image.

    The header is read first (``common.images``): only the formats the model's graph decodes
    too, and no more than ``max_pixels``, reach OpenCV. EXIF orientation is ignored on purpose:
    the model's graph ignores it too, so the heatmap and the photo stay aligned.
    """
    check_header(data, max_pixels)
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8),
                       cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:
        raise NotAnImage()
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def resize_heatmap(heatmap: np.ndarray, height: int, width: int) -> np.ndarray:
    """The model's coarse map (e.g. 14x14) stretched over the whole photo, float32 in [0, 1].

    The model's graph lays its map over the whole photo (``model.preprocess.heatmap_on_photo``;
    up to version 2 the photo itself was squashed), so stretching it to the photo's size puts
    every cell over the region it covers.
    """
    resized = cv2.resize(np.asarray(heatmap, np.float32), (width, height),
                         interpolation=cv2.INTER_CUBIC)
    return np.clip(resized, 0.0, 1.0)


def colorize(heatmap: np.ndarray) -> np.ndarray:
    """Heatmap in [0, 1] → RGB uint8 through the jet colour map (0 blue, 1 red)."""
    levels = np.rint(np.clip(heatmap, 0.0, 1.0) * 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(levels, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)


def blend(photo: np.ndarray, heatmap: np.ndarray, alpha: float) -> np.ndarray:
    """The coloured heatmap laid over the photo, RGB uint8: each pixel's colour weighs
    ``alpha`` × its heat, so where the AI looked glows and the rest of the photo stays as it
    is (a uniform blend washes the whole photo blue and hides the car)."""
    h, w = photo.shape[:2]
    heat = resize_heatmap(heatmap, h, w)
    weight = (alpha * heat)[..., None]
    mixed = colorize(heat) * weight + photo * (1.0 - weight)
    return np.rint(mixed).astype(np.uint8)


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    """RGB uint8 → JPEG bytes."""
    ok, buffer = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                              [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buffer.tobytes()


def render(photo: np.ndarray, heatmap: np.ndarray, alpha: float, quality: int) -> bytes:
    """The overlay JPEG for a decoded photo, at the photo's size."""
    return encode_jpeg(blend(photo, heatmap, alpha), quality)
