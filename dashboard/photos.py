"""A visitor's own photo, checked and made ready for the model: plain functions, no I/O.

The browser sends the file as a ``data:`` URL. Everything about it is untrusted: it is refused
with a message for the visitor (``PhotoRefused``) unless it is a still JPEG, PNG or WebP of at
most ``MAX_BYTES`` and ``MAX_PIXELS``, whose header is checked before its pixels are decoded.
"""
from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

from PIL import Image, ImageOps

from common.images import NotAnImage, TooManyPixels, check_header
from dashboard.i18n import N_

MAX_BYTES = 10 * 1000 * 1000  # "10 MB", as the page says it
MAX_PIXELS = 40_000_000
FORMATS = ("JPEG", "PNG", "WEBP")
PREVIEW_SIDE = 1024  # the copy shown on the page and drawn on by the explainer
QUALITY = 92
ORIENTATION = 0x0112  # the EXIF tag phones set instead of rotating the pixels

NOT_AN_IMAGE = N_("This file is not a photo. Please choose a JPEG, PNG or WebP picture.")
EMPTY = N_("This file is empty. Please choose a photo.")
TOO_BIG = N_("This photo is larger than 10 MB. Please choose a smaller one.")
TOO_MANY_PIXELS = N_("This photo has more than 40 megapixels. Please choose a smaller one.")
TRUNCATED = N_("This photo is incomplete (the file is cut off). Please choose another one.")
ANIMATED = N_("This is an animation. Please choose a still photo.")


class PhotoRefused(ValueError):
    """Why a file cannot be classified; ``str()`` is the message (untranslated, ``N_``)."""


@dataclass(frozen=True)
class Upload:
    model_jpeg: bytes  # what the model's contract takes: a JPEG, upright
    preview_jpeg: bytes  # the same photo, at most PREVIEW_SIDE pixels a side
    width: int  # of the upright photo
    height: int


def from_data_url(contents: str) -> bytes:
    """The file's bytes from ``data:<type>;base64,<data>`` (the browser's type is ignored:
    the bytes say what they are)."""
    head, sep, data = contents.partition(",")
    if not sep or not head.startswith("data:") or not head.endswith(";base64"):
        raise PhotoRefused(NOT_AN_IMAGE)
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise PhotoRefused(NOT_AN_IMAGE) from None


def prepare(data: bytes) -> Upload:
    """Check ``data`` and make it ready for the model. A JPEG that needs no turning goes to
    the model as it came (the same bytes give the same answer as calling the model directly);
    anything else is turned upright by its EXIF orientation and saved as a JPEG."""
    if not data:
        raise PhotoRefused(EMPTY)
    if len(data) > MAX_BYTES:
        raise PhotoRefused(TOO_BIG)
    try:
        check_header(data, MAX_PIXELS)
    except TooManyPixels:
        raise PhotoRefused(TOO_MANY_PIXELS) from None
    except NotAnImage:
        raise PhotoRefused(NOT_AN_IMAGE) from None
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            if getattr(image, "n_frames", 1) > 1:
                raise PhotoRefused(ANIMATED)
            image.load()
            turned = image.getexif().get(ORIENTATION, 1) not in (1, None)
            upright = ImageOps.exif_transpose(image).convert("RGB")
            keep = image.format == "JPEG" and not turned
    except PhotoRefused:
        raise
    except OSError as exc:  # "image file is truncated", "broken data stream", …
        if "truncated" in str(exc) or "broken" in str(exc):
            raise PhotoRefused(TRUNCATED) from None
        raise PhotoRefused(NOT_AN_IMAGE) from None
    except Exception:  # untrusted bytes: any other failure to decode is "not a photo"
        raise PhotoRefused(NOT_AN_IMAGE) from None
    model_jpeg = data if keep else _jpeg(upright)
    preview = upright.copy()
    preview.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    return Upload(model_jpeg, _jpeg(preview), *upright.size)


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()
