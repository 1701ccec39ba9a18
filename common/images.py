"""A photo's header, read before anything decodes it: its format and how many pixels it holds.

A 1.5 MB JPEG can declare 10000x10000 pixels and cost a decoder 300 MB and seconds of CPU;
the header says so in microseconds. The model server and the explainer both refuse such photos
here, with the same words, before their decoders (TensorFlow, OpenCV) see them.
"""
from __future__ import annotations

import io
import warnings

from PIL import Image

# What both decoders behind this check read: the model's graph (``tf.io.decode_image``) and
# OpenCV in the explainer. Pillow only parses the header to name the format.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")
_EXPECTED = "expected JPEG, PNG, WebP, GIF or BMP"
# Pillow's own bomb guard warns above 89 MP (and fails above 179 MP): the limit is ours.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


class PhotoRejected(ValueError):
    """A photo refused before decoding; the message says why in a client's words."""


class NotAnImage(PhotoRejected):
    def __init__(self, message: str = f"not a decodable image ({_EXPECTED})") -> None:
        super().__init__(message)


class TooManyPixels(PhotoRejected):
    pass


def check_header(data: bytes, max_pixels: int) -> tuple[int, int]:
    """``(width, height)`` from the photo's header, without decoding its pixels.

    Raises ``NotAnImage`` if the header is not one of ``FORMATS`` or cannot be parsed, and
    ``TooManyPixels`` above ``max_pixels``.
    """
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            width, height = image.size
    except Image.DecompressionBombError:
        raise _too_many(f"over {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} MP", max_pixels) from None
    except Exception:  # untrusted bytes: any failure to parse the header means "not an image"
        raise NotAnImage() from None
    if width <= 0 or height <= 0:
        raise NotAnImage()
    if width * height > max_pixels:
        raise _too_many(f"{width}x{height} pixels ({width * height / 1e6:.1f} MP)", max_pixels)
    return width, height


def _too_many(size: str, max_pixels: int) -> TooManyPixels:
    return TooManyPixels(f"the photo is {size}: at most {max_pixels / 1e6:g} MP")
