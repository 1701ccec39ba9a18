"""The result card (dashboard/card.py): a PNG of the card's size and bounded weight, read back
with Pillow and with OCR (tesseract): the score, the event's name and the date are on it, in
the visitor's language. The photos are drawn here (no dataset photo in a test's output)."""
from __future__ import annotations

import io
import os
import re
import shutil
from datetime import date

import pytest
from PIL import Image, ImageDraw

from dashboard import card
from dashboard.card import HEIGHT, WIDTH, CardRound, date_text, result_card
from dashboard.event.settings import Event
from dashboard.game import Car, Game, Round
from dashboard.i18n import use
from dashboard.pages import finish
from tests.card_read import ocr, opened, score_read

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="tesseract-ocr is not installed (make system-deps)")
DAY = date(2025, 3, 12)
KINDS = ("exact", "make", "miss", "exact", "miss")


def photo(seed: int, noisy: bool = False) -> bytes:
    """A 640 x 480 JPEG: a sky, a road and a car-coloured box; ``noisy``: random pixels, the
    photo that compresses worst."""
    if noisy:
        image = Image.frombytes("RGB", (640, 480), os.urandom(640 * 480 * 3))
    else:
        image = Image.new("RGB", (640, 480), (90 + seed * 20, 150, 220))
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 320, 640, 480), fill=(70, 70, 80))
        draw.rounded_rectangle((120, 220, 520, 350), 40, fill=(200, 30 * seed, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def rounds(noisy: bool = False) -> list[CardRound]:
    return [CardRound(photo(n, noisy), kind, "+3 exact" if kind == "exact" else "+0",
                      "Rolls-Royce Phantom Drophead Coupe Convertible 2012")
            for n, kind in enumerate(KINDS)]


def draw(language: str = "en", you: int = 7, ai: int = 6, **changes: object) -> bytes:
    texts = {"en": ("You win!", "You", "AI", "Beat the AI — Car Edition"),
             "de": ("Du gewinnst!", "Du", "KI", "Schlag die KI — Auto-Edition")}[language]
    verdict, you_label, ai_label, title = texts
    return result_card(**{"you": you, "ai": ai, "verdict_text": verdict, "rounds": rounds(),
                          "you_label": you_label, "ai_label": ai_label, "title": title,
                          "day": DAY, "language": language,
                          "event_name": "Auto Show Frankfurt", **changes})


def test_the_card_is_a_portrait_png_under_a_megabyte_even_with_noisy_photos():
    for png in (draw(), draw(rounds=rounds(noisy=True))):
        image = opened(png)
        assert image.format == "PNG" and image.size == (WIDTH, HEIGHT) == (1080, 1350)
        assert len(png) < 1_000_000


def test_a_heavier_card_goes_to_256_colours(monkeypatch):
    monkeypatch.setattr(card, "MAX_BYTES", 10_000)
    image = opened(draw())
    assert image.mode == "P" and image.size == (WIDTH, HEIGHT)


def test_the_card_changes_with_the_score_and_the_rounds():
    base = draw()
    assert draw() == base  # the same game: the same card
    assert draw(you=9) != base
    assert draw(ai=2) != base
    assert draw(rounds=rounds()[:3]) != base


def test_photos_that_cannot_be_read_and_no_rounds_still_make_a_card():
    broken = [CardRound(b"not a photo", "miss"), CardRound(b"", "exact", "+3")]
    assert opened(draw(rounds=broken)).size == (WIDTH, HEIGHT)
    assert opened(draw(rounds=[], event_name="")).size == (WIDTH, HEIGHT)
    with pytest.raises(ValueError):
        draw(rounds=rounds() * 2)
    with pytest.raises(ValueError):
        draw(rounds=[CardRound(b"", "right")])


def test_the_date_is_written_as_the_language_writes_it():
    assert date_text(DAY, "en") == "March 12, 2025"
    assert date_text(DAY, "de") == "12. März 2025"


def test_the_font_draws_umlauts():
    """Each of äöüÄÖÜß its own glyph: none is the missing-glyph box, none the plain letter."""
    face = card.font(60, bold=True)
    drawn = {}
    for c in "äöüÄÖÜßaouAOU\ue000":
        image = Image.new("L", (80, 80))
        ImageDraw.Draw(image).text((10, 0), c, font=face, fill=255)
        drawn[c] = image.tobytes()
    assert len(set(drawn.values())) == len(drawn)


@needs_tesseract
@pytest.mark.parametrize("language", ["en", "de"])
def test_ocr_reads_the_score_the_event_and_the_date(language, monkeypatch):
    png = draw(language, you=7, ai=4, event_name="Auto Show Frankfurt")
    words = ocr(opened(png), monkeypatch)
    text = " ".join(w["text"] for w in words)
    assert score_read(png, "Auto Show Frankfurt", monkeypatch) == ["7", "4"], words
    assert "Auto Show Frankfurt" in text
    assert {"en": "You win!", "de": "Du gewinnst!"}[language] in text
    # tesseract reads English letters only: the German "März" comes back as "Marz"
    date_read = {"en": r"March 12, 2025", "de": r"12\. M.?rz 2025"}[language]
    assert re.search(date_read, text), text


@needs_tesseract
def test_ocr_reads_a_show_score_in_thousands(monkeypatch):
    assert score_read(draw("de", you=1250, ai=980), "Auto Show Frankfurt", monkeypatch) == [
        "1.250", "980"]


def test_the_finish_page_draws_the_card_of_a_finished_game():
    m3 = Car("BMW M3 Coupe 2012", "BMW", "M3 Coupe", 2012)
    x5 = Car("BMW X5 SUV 2007", "BMW", "X5 SUV", 2007)
    game = Game([Round(photo=photo(n), answer=m3, ai_top=[(x5, 0.9)], overlay=None, guess=g)
                 for n, g in enumerate((m3, x5, None, m3, m3))], current=5)
    with use("de"):
        png = finish.result_card(game, Event(name="Messe Köln", accent="#f472b6"), DAY)
    assert opened(png).size == (WIDTH, HEIGHT)
    assert png != finish.result_card(game, Event(), DAY)
