"""Reading a result card (dashboard/card.py) back as a person would: its PNG opened with
Pillow, its words with tesseract (Debian's tesseract-ocr, through pytesseract)."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from dashboard.card import score_panel


def opened(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def ocr(image: Image.Image, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """The words tesseract reads (sparse text: the big digits too), with their boxes."""
    import pytesseract

    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")  # one core: the suite runs on the others
    data = pytesseract.image_to_data(image.convert("RGB"), config="--psm 11",
                                     output_type=pytesseract.Output.DICT)
    return [{"text": text.strip(), "x": left + w / 2, "y": top, "h": h}
            for text, left, top, w, h in zip(data["text"], data["left"], data["top"],
                                             data["width"], data["height"], strict=True)
            if text.strip()]


def score_read(png: bytes, event_name: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The big numbers in the card's score panel, left to right (read there alone: never a
    digit in a photo)."""
    words = ocr(opened(png).crop(score_panel(event_name)), monkeypatch)
    return [w["text"] for w in sorted(words, key=lambda w: w["x"])
            if w["h"] > 60 and re.fullmatch(r"[\d.,]+", w["text"])]
