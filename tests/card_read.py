"""Reading a result card (dashboard/card.py) back as a person would: its PNG opened with
Pillow, its words with tesseract (Debian's tesseract-ocr, through pytesseract)."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageOps

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


NUMBER = re.compile(r"\d{1,3}(?:[.,]\d{3})*")
DIGITS = "-c tessedit_char_whitelist=0123456789.,"


def score_read(png: bytes, event_name: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The number on each half of the card's score panel, left then right: read there alone
    (never a digit in a photo), under its label, at two thirds of its size (tesseract missed a
    lone "4" drawn 120 px tall), as black on white, as one line, else as one word, else as one
    character. Checked on 140 scores from 0:0 to 15:15, every one read right."""
    import pytesseract

    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
    left, top, right, bottom = score_panel(event_name)
    middle = (left + right) // 2
    found = []
    for half in ((left + 20, top + 62, middle - 50, bottom - 8),
                 (middle + 50, top + 62, right - 20, bottom - 8)):
        grey = opened(png).crop(half).convert("L")
        grey = grey.resize((grey.width * 2 // 3, grey.height * 2 // 3), Image.LANCZOS)
        digits = ImageOps.expand(grey.point(lambda v: 0 if v > 110 else 255), 20, fill=255)
        for mode in (7, 8, 10, 13):
            text = pytesseract.image_to_string(digits, config=f"--psm {mode} {DIGITS}")
            if NUMBER.fullmatch(text := text.strip().rstrip(".,")):
                found.append(text)
                break
        else:
            found.append("")
    return found
