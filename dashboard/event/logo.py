"""The exhibitor's logo: an upload checked before its pixels are decoded, then re-encoded.

Only PNG and JPEG are taken (never SVG: a vector file can carry script), at most
``MAX_BYTES`` and ``MAX_PIXELS``; what is kept is a fresh PNG of at most ``SHOWN`` pixels, so
nothing of the uploaded file but its pixels ever reaches a visitor's browser.
"""
from __future__ import annotations

import hashlib
import io

from PIL import Image

from common.images import NotAnImage, TooManyPixels, check_header
from dashboard.i18n import N_
from dashboard.photos import PhotoRefused, from_data_url

MAX_BYTES = 2 * 1000 * 1000  # "2 MB", as the console says it
MAX_PIXELS = 16_000_000
FORMATS = ("PNG", "JPEG")
SHOWN = (1200, 300)  # the largest logo kept: wide, as logos are, and sharp on a big screen

NOT_AN_IMAGE = N_("The logo must be a PNG or JPEG picture (SVG and other files are not "
                  "taken).")
TOO_BIG = N_("The logo is larger than 2 MB. Please choose a smaller file.")
TOO_MANY_PIXELS = N_("The logo has more than 16 megapixels. Please choose a smaller one.")
BROKEN = N_("The logo file is damaged (it cannot be read). Please choose another one.")


class LogoRefused(ValueError):
    """Why a logo cannot be taken; ``str()`` is the message (untranslated, ``N_``)."""


def uploaded_logo(contents: str) -> bytes:
    """The PNG kept for a file the console's upload sends (a ``data:`` URL)."""
    try:
        data = from_data_url(contents)
    except PhotoRefused:
        raise LogoRefused(NOT_AN_IMAGE) from None
    return checked_logo(data)


def checked_logo(data: bytes) -> bytes:
    """``data`` as the PNG that is kept, or ``LogoRefused``."""
    if len(data) > MAX_BYTES:
        raise LogoRefused(TOO_BIG)
    try:
        check_header(data, MAX_PIXELS)
    except TooManyPixels:
        raise LogoRefused(TOO_MANY_PIXELS) from None
    except NotAnImage:
        raise LogoRefused(NOT_AN_IMAGE) from None
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            image.load()
            picture = image.convert("RGBA")
    except Exception:  # untrusted bytes: SVG, GIF, a cut-off file all end here
        raise LogoRefused(NOT_AN_IMAGE if not _is_png_or_jpeg(data) else BROKEN) from None
    picture.thumbnail(SHOWN)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _is_png_or_jpeg(data: bytes) -> bool:
    return data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"))


def digest(png: bytes) -> str:
    """The logo's name: its SHA-256 (a new logo is a new URL, so browsers may keep one)."""
    return hashlib.sha256(png).hexdigest()
