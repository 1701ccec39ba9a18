"""WCAG 2 contrast for the event's accent colour. The accent is drawn as text (the event's
name) on the pages' dark backgrounds, so it must reach AA's 4.5:1 on each of them."""
from __future__ import annotations

import re

HEX = re.compile(r"#[0-9a-f]{6}")
# The backgrounds the accent is drawn on: assets/game.css's --bg, the header's and --surface
# (tests/test_event.py checks that the stylesheet still says so).
BACKGROUNDS = ("#0b1220", "#060b16", "#16213a")
AA_TEXT = 4.5


def luminance(colour: str) -> float:
    """Relative luminance of ``#rrggbb`` (WCAG 2.x)."""
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def ratio(first: str, second: str) -> float:
    """Contrast ratio of two colours, 1 to 21."""
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def weakest(accent: str) -> float:
    """The accent's lowest contrast against the backgrounds it is drawn on."""
    return min(ratio(accent, background) for background in BACKGROUNDS)
