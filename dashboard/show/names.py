"""Nicknames for the big screen's table: checked before anything is stored.

A name is 1 to 12 letters or digits. It is refused when it holds a word of the English or
German lists in ``words/`` (LDNOOBW, CC BY 4.0, and our own ``extra.txt``; digits read as
the letters they stand for, so "a55" is "ass"), or when one of its letter runs is an entry of
the wall's blocklist (the initials' file and the console's: "SS", "HH88"). Short listed words
(three letters and fewer) count only as the whole name or a whole run, so "Cassandra" plays.
"""
from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from dashboard.blocklist import Blocklist
from dashboard.i18n import N_
from dashboard.show.timeline import NAME_LIMIT

WORDS = Path(__file__).with_name("words")
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                      "9": "g", "@": "a", "$": "s"})
SHORT = 3  # listed words this long or shorter match only whole

BAD_FORM = N_("A name is 1 to 12 letters or digits, without spaces.")
REFUSED = N_("Please pick another name: this one cannot go on the big screen.")


class NameRefused(ValueError):
    """``str()`` is the message for the phone (untranslated, ``N_``)."""


def _plain(text: str) -> str:
    """Lower case, accents and digits read as letters, nothing else: "Fück3r" → "fucker"."""
    text = unicodedata.normalize("NFKD", text.casefold().translate(LEET))
    return "".join(c for c in text if c.isalpha() and c.isascii())


@cache
def listed_words() -> tuple[frozenset[str], frozenset[str]]:
    """(long words, short words) of every list in ``words/``, read once."""
    words: set[str] = set()
    for path in sorted(WORDS.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                words.add(_plain(line))
    words.discard("")
    return (frozenset(w for w in words if len(w) > SHORT),
            frozenset(w for w in words if len(w) <= SHORT))


def checked_name(text: str, blocklist: Blocklist) -> str:
    """The name as the table shows it, or ``NameRefused``."""
    name = unicodedata.normalize("NFC", text.strip())
    if not 0 < len(name) <= NAME_LIMIT or not all(c.isalnum() for c in name):
        raise NameRefused(BAD_FORM)
    long_words, short_words = listed_words()
    plain = _plain(name)
    runs = [r.upper() for r in re.findall(r"[^\W\d_]+", name)]
    if (plain in short_words or any(w in plain for w in long_words)
            or any(r in blocklist.words or r in blocklist.prefixes for r in runs)):
        raise NameRefused(REFUSED)
    return name
