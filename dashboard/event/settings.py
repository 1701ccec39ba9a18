"""What the stand's owner sets for an event, and what each setting may hold.

An ``Event`` is a plain value: the pages read it (name, logo, accent colour, language, idle
time, modes), the game pool draws photos by it (makes), and the scoreboard checks initials
against its blocklist entries. Every ``checked_*`` function either returns the value as it is
kept or raises ``EventRefused`` with a message for the owner.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from dashboard.event.contrast import AA_TEXT, HEX, weakest
from dashboard.game import MODES
from dashboard.i18n import LANGUAGES, N_

MAX_NAME = 60
IDLE_RANGE = (15, 600)  # seconds: long enough to read a round, short enough for a queue
MIN_PHOTOS = 20  # a game's makes must leave at least this many photos in the pool
# The settings kept in the database, by key; ``blocked`` (the console's blocklist entries)
# has a table of its own.
FIELDS = ("name", "logo", "accent", "language", "idle_seconds", "modes", "makes")


class EventRefused(ValueError):
    """A setting the console does not take: ``str()`` is the message (untranslated, ``N_``),
    ``params`` fill its placeholders once translated."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.params = params


@dataclass(frozen=True)
class Event:
    """The event's settings; the defaults are the game as it ships."""

    name: str = ""  # shown on the start page, the attract screen and the wall; "": none
    logo: str = ""  # the logo's digest (dashboard/event/logo.py); "": none
    accent: str = ""  # "#rrggbb" for the event's name; "": the game's own colours
    language: str = ""  # the language a visitor starts in; "": the dashboard's setting
    idle_seconds: float | None = None  # None: the dashboard's setting
    modes: tuple[str, ...] = MODES  # the modes the start page offers
    makes: tuple[str, ...] = ()  # the makes the game and the attract screen draw; (): all
    blocked: tuple[str, ...] = ()  # blocklist entries added in the console

    def offers(self, mode: str) -> bool:
        return mode in self.modes

    def draws(self, make: str) -> bool:
        return not self.makes or make in self.makes


def checked_name(text: str | None) -> str:
    """One line of at most ``MAX_NAME`` characters, spaces tidied; "" for none."""
    name = " ".join((text or "").split())
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise EventRefused(N_("The event's name can only hold letters, digits, spaces and "
                              "punctuation."))
    if len(name) > MAX_NAME:
        raise EventRefused(N_("The event's name is too long: at most {n} characters."),
                           n=MAX_NAME)
    return name


def checked_accent(text: str | None) -> str:
    """``#rrggbb`` in lower case that reaches WCAG AA on every background it is drawn on;
    "" for the game's own colours."""
    colour = (text or "").strip().lower()
    if not colour:
        return ""
    if re.fullmatch(r"[0-9a-f]{6}", colour):
        colour = "#" + colour
    if not HEX.fullmatch(colour):
        raise EventRefused(N_("Write the colour as # and six hex digits, like #38bdf8."))
    contrast = weakest(colour)
    if contrast < AA_TEXT:
        raise EventRefused(N_("This colour is too dark to read on the pages' dark background "
                              "(contrast {ratio}:1; at least {needed}:1 is needed). Please "
                              "choose a lighter one."),
                           ratio=f"{contrast:.1f}", needed=f"{AA_TEXT:g}")
    return colour


def checked_language(value: str | None) -> str:
    if value in (None, ""):
        return ""
    if value not in LANGUAGES:
        raise EventRefused(N_("Choose one of the languages offered."))
    return value


def checked_idle(value: object) -> float | None:
    """Seconds within ``IDLE_RANGE``; None for the dashboard's setting."""
    if value in (None, ""):
        return None
    low, high = IDLE_RANGE
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not low <= value <= high):
        raise EventRefused(N_("The idle time must be between {low} and {high} seconds."),
                           low=low, high=high)
    return float(value)


def checked_modes(values: Iterable[str] | None) -> tuple[str, ...]:
    chosen = tuple(mode for mode in MODES if mode in set(values or ()))
    if not chosen:
        raise EventRefused(N_("Offer at least one mode: Easy or Expert."))
    return chosen


def checked_makes(values: Iterable[str] | None, photos_by_make: dict[str, int],
                  ) -> tuple[str, ...]:
    """The makes chosen, A to Z, all of them in the pool; () when they are every make of the
    pool (so that the setting means "all"). Refused when they leave fewer than
    ``MIN_PHOTOS`` photos."""
    chosen = sorted(set(values or ()))
    unknown = [make for make in chosen if make not in photos_by_make]
    if unknown:
        raise EventRefused(N_("These makes are not in the photo pool: {makes}."),
                           makes=", ".join(unknown))
    photos = sum(photos_by_make[make] for make in chosen)
    if photos < MIN_PHOTOS:
        raise EventRefused(N_("These makes leave {n} photos in the pool; the game needs at "
                              "least {needed}. Please choose more makes."),
                           n=photos, needed=MIN_PHOTOS)
    return () if len(chosen) == len(photos_by_make) else tuple(chosen)
