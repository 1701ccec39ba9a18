"""The result card a visitor takes home: a portrait PNG (1080 x 1350, as a phone's gallery shows
a post) in the game's dark colours, drawn on the server with Pillow. Plain functions: no Dash,
no I/O; every text on it comes in already in the visitor's language (the caller translates),
only the date and the numbers are written here, as the language writes them (Babel).

It shows the score against the AI and who won, the rounds' photos (downscaled) each marked
right, make right or wrong, the event's name and the day. The solo game's finish page draws it
(pages/finish.py), and so can the crowd show, for a phone with its own points.
"""
from __future__ import annotations

import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from babel import dates, numbers
from PIL import Image, ImageDraw, ImageFont, ImageOps

log = logging.getLogger(__name__)
WIDTH, HEIGHT = 1080, 1350
MAX_ROUNDS = 6  # two rows of three thumbnails
MAX_PHOTO_PIXELS = 40_000_000  # a photo larger than this is not decoded: a grey tile instead
MAX_BYTES = 1_000_000  # over this (photos full of fine detail), the card goes to 256 colours
TITLE_Y, EVENT_LINE, MARGIN = 52, 66, 60  # the layout's fixed steps, in the card's pixels
SS = 2  # drawn at twice the size, then scaled down: smooth circles, rings and corners

# assets/game.css
BG, SURFACE, SURFACE_2, LINE = "#0b1220", "#16213a", "#22325a", "#3d5285"
TEXT, MUTED = "#f1f5f9", "#c2cde0"
YOU, AI, GO = "#38bdf8", "#fb923c", "#facc15"
KINDS = {  # a round's mark: (its colour, the mark's own colour on it)
    "exact": ("#4ade80", "#052e16"),
    "make": ("#facc15", "#111827"),
    "miss": ("#fca5a5", "#450a0a"),
}

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)  # Debian's fonts-dejavu-core
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")  # regular, bold


@dataclass(frozen=True)
class CardRound:
    """One round as the card shows it."""

    photo: bytes  # the round's photo: JPEG (any format Pillow reads)
    kind: str  # how the player did: "exact", "make" or "miss" (components.verdict)
    points: str = ""  # what it scored, as the pages say it: "+3 exact", "+0"
    caption: str = ""  # the answer, e.g. "BMW M3 Coupe 2012"


@cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans (what the pages ask the browser for first), else Pillow's own font, which
    has no umlauts (the dashboard's Docker image installs DejaVu)."""
    name = FONTS[bold]
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return ImageFont.truetype(str(folder / name), size)
    log.warning("the result card's font is missing: install fonts-dejavu-core",
                extra={"font": name})
    return ImageFont.load_default(size=size)


def date_text(day: date, language: str) -> str:
    """"March 12, 2025" in English, "12. März 2025" in German."""
    return dates.format_date(day, format="long", locale=language)


def number_text(value: int, language: str) -> str:
    """"1,250" in English, "1.250" in German (a show's points run into the thousands)."""
    return numbers.format_decimal(value, locale=language)


def _fitted(text: str, size: int, width: int, bold: bool = True,
            smallest: int = 20) -> ImageFont.FreeTypeFont:
    """The largest font up to ``size`` (drawing pixels) in which ``text`` fits ``width``."""
    while size > smallest and font(size, bold).getlength(text) > width:
        size = max(smallest, int(size * 0.92))
    return font(size, bold)


def _cut(text: str, face: ImageFont.FreeTypeFont, width: int) -> str:
    """``text``, shortened with "…" until it fits ``width``."""
    if face.getlength(text) <= width:
        return text
    while text and face.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def wrap(text: str, face: ImageFont.FreeTypeFont, width: int, lines: int) -> list[str]:
    """``text`` in at most ``lines`` lines of at most ``width``, broken between words; what
    does not fit ends in "…"."""
    out: list[str] = []
    words = text.split()
    while words and len(out) < lines:
        line = words.pop(0)
        while words and face.getlength(f"{line} {words[0]}") <= width:
            line = f"{line} {words.pop(0)}"
        out.append(line)
    if words:
        out[-1] = _cut(f"{out[-1]} {' '.join(words)}", face, width)
    return [_cut(line, face, width) for line in out]


def _thumbnail(photo: bytes, size: tuple[int, int]) -> Image.Image:
    """The photo cut to ``size`` around its middle; a plain tile when it cannot be read."""
    try:
        with Image.open(io.BytesIO(photo)) as image:
            if image.width * image.height > MAX_PHOTO_PIXELS:
                raise ValueError("photo too large")
            image.draft("RGB", size)  # a JPEG decodes at a fraction of its size: fast
            return ImageOps.fit(image.convert("RGB"), size, Image.Resampling.LANCZOS)
    except (OSError, ValueError, Image.DecompressionBombError):
        return Image.new("RGB", size, SURFACE_2)


def _rounded(image: Image.Image, radius: int) -> Image.Image:
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, *image.size), radius, fill=255)
    out = Image.new("RGBA", image.size)
    out.paste(image, mask=mask)
    return out


def _mark(draw: ImageDraw.ImageDraw, centre: tuple[int, int], radius: int, kind: str) -> None:
    """A round's mark: a tick (exact: green; make right: amber) or a cross (red), in a disc."""
    fill, ink = KINDS[kind]
    x, y = centre
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill,
                 outline=BG, width=max(2, radius // 8))
    r, w = radius * 0.5, max(3, radius // 4)
    if kind == "miss":
        draw.line((x - r, y - r, x + r, y + r), fill=ink, width=w)
        draw.line((x - r, y + r, x + r, y - r), fill=ink, width=w)
    else:
        draw.line((x - r, y + r * 0.05, x - r * 0.25, y + r * 0.75, x + r, y - r * 0.7),
                  fill=ink, width=w, joint="curve")


def _centred(draw: ImageDraw.ImageDraw, y: int, text: str, face: ImageFont.FreeTypeFont,
             fill: str, x: int | None = None) -> None:
    """``text`` centred on ``x`` (default: the card's middle), its top at ``y``."""
    draw.text((WIDTH * SS // 2 if x is None else x, y), text, font=face, fill=fill, anchor="mt")


def score_panel(event_name: str = "") -> tuple[int, int, int, int]:
    """Where a card shows the score (left, top, right, bottom, in the card's pixels): it
    moves down a line when the card names the event."""
    top = TITLE_Y + 56 + (EVENT_LINE if event_name else 0) + 14 + 136
    return MARGIN, top, WIDTH - MARGIN, top + 200


def result_card(*, you: int, ai: int, verdict_text: str, rounds: Sequence[CardRound],
                you_label: str, ai_label: str, title: str, day: date, language: str,
                event_name: str = "", accent: str = "") -> bytes:
    """The card as PNG bytes (1080 x 1350, well under 1 MB).

    ``you`` and ``ai``: the points; ``verdict_text``: who won, in words ("You win!"), in the
    winner's colour; ``rounds``: at most ``MAX_ROUNDS``, in the order played; ``you_label``
    and ``ai_label``: the two sides ("You", "AI"); ``title``: the game's name; ``day``: the
    day played, written in ``language`` ("en", "de"); ``event_name``: the event's, if any,
    in its ``accent`` colour ("#rrggbb"; "" for the game's own)."""
    if len(rounds) > MAX_ROUNDS:
        raise ValueError(f"a card shows at most {MAX_ROUNDS} rounds")
    if any(r.kind not in KINDS for r in rounds):
        raise ValueError(f"a round's kind is one of {tuple(KINDS)}")
    s = SS
    width, margin = WIDTH * s, MARGIN * s
    inner = width - 2 * margin
    card = Image.new("RGB", (width, HEIGHT * s), BG)
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, width, 12 * s), fill=GO)  # the "go" yellow of the game's buttons

    y = TITLE_Y * s
    _centred(draw, y, _cut(title, font(34 * s, True), inner), font(34 * s, True), MUTED)
    y += 56 * s
    if event_name:
        face = _fitted(event_name, 46 * s, inner)
        _centred(draw, y, event_name if face.getlength(event_name) <= inner
                 else _cut(event_name, face, inner), face, accent or TEXT)
        y += EVENT_LINE * s
    y += 14 * s
    colour = GO if you > ai else AI if ai > you else TEXT
    face = _fitted(verdict_text, 104 * s, inner)
    _centred(draw, y, _cut(verdict_text, face, inner), face, colour)
    y += 136 * s

    # the score: you on the left, the AI on the right, in their colours
    panel = tuple(v * s for v in score_panel(event_name))
    draw.rounded_rectangle(panel, 28 * s, fill=SURFACE, outline=LINE, width=2 * s)
    half = inner // 2
    for side, (label, points, tint) in enumerate(((you_label, you, YOU), (ai_label, ai, AI))):
        x = margin + half // 2 + side * half
        label_face = _fitted(label, 40 * s, half - 80 * s)
        _centred(draw, y + 20 * s, _cut(label, label_face, half - 80 * s), label_face, tint, x)
        digits = number_text(points, language)
        _centred(draw, y + 72 * s, digits, _fitted(digits, 120 * s, half - 140 * s), tint, x)
    # the dash at the digits' middle height
    middle = sum(draw.textbbox((0, y + 72 * s), "0", font(120 * s, True), anchor="mt")[1::2]) / 2
    left, top, right, bottom = draw.textbbox((0, 0), "–", font(90 * s, True), anchor="lt")
    draw.text(((width - left - right) / 2, middle - (top + bottom) / 2), "–",
              font=font(90 * s, True), fill=MUTED, anchor="lt")
    y = panel[3] + 40 * s

    # the rounds: three to a row, each photo ringed and marked in its kind's colour
    gap = 36 * s
    tile_w = (inner - 2 * gap) // 3
    tile_h = tile_w * 3 // 4
    points_face, caption_face = font(28 * s, True), font(23 * s)
    row_h = tile_h + 118 * s
    for row in range(math.ceil(len(rounds) / 3)):
        in_row = rounds[row * 3:row * 3 + 3]
        left = (width - len(in_row) * tile_w - (len(in_row) - 1) * gap) // 2
        for i, played in enumerate(in_row):
            x, top = left + i * (tile_w + gap), y + row * row_h
            tint = KINDS[played.kind][0]
            ring = 6 * s
            draw.rounded_rectangle((x - ring, top - ring, x + tile_w + ring, top + tile_h + ring),
                                   (18 + 6) * s, fill=tint)
            thumb = _rounded(_thumbnail(played.photo, (tile_w, tile_h)), 18 * s)
            card.paste(thumb, (x, top), thumb)
            _mark(draw, (x + tile_w - 30 * s, top + 30 * s), 30 * s, played.kind)
            text_y = top + tile_h + 18 * s
            if played.points:
                draw.text((x, text_y), _cut(played.points, points_face, tile_w),
                          font=points_face, fill=tint)
            for n, line in enumerate(wrap(played.caption, caption_face, tile_w, 2)):
                draw.text((x, text_y + 40 * s + n * 29 * s), line, font=caption_face,
                          fill=MUTED)

    # the day, at the foot
    foot = HEIGHT * s - 64 * s
    draw.line((margin, foot - 22 * s, width - margin, foot - 22 * s), fill=LINE, width=2 * s)
    _centred(draw, foot, date_text(day, language), font(30 * s), MUTED)

    card = card.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    card.save(out, "PNG")
    if out.tell() > MAX_BYTES:
        out = io.BytesIO()
        card.quantize(256, method=Image.Quantize.FASTOCTREE).save(out, "PNG")
    return out.getvalue()
