"""Initials that never go on the wall: the data file ``blocklist.txt`` beside this module (one
entry a line, ``ABC`` exactly or ``AB*`` as a prefix), read once per process.

The wall is on a big screen in front of customers, so a refused choice is checked twice: by
``Scoreboard.set_initials`` before anything is stored, and by the wall as it draws today's top
10 (entries stored before a line was added). Both ask ``allows``, so they never disagree.
``build`` takes the file's entries plus extra ones, for a list extended at run time.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PATH = Path(__file__).with_name("blocklist.txt")
INITIALS = re.compile(r"[A-Z]{3}")
ENTRY = re.compile(r"[A-Z]{3}|[A-Z]{1,2}\*")


@dataclass(frozen=True)
class Blocklist:
    """Three-letter entries and prefixes (without their ``*``)."""
    words: frozenset[str]
    prefixes: frozenset[str]

    def refuses(self, initials: object) -> bool:
        """True unless ``initials`` are exactly three letters A–Z on no entry: anything odd
        (lower case, other characters, another length) is refused rather than let through."""
        if not isinstance(initials, str) or not INITIALS.fullmatch(initials):
            return True
        return (initials in self.words or initials[:1] in self.prefixes
                or initials[:2] in self.prefixes)


def entry(text: str) -> str:
    """One entry, upper-cased and checked: ``ABC`` or a prefix ``A*``/``AB*``; a typo in the
    list fails loudly instead of quietly letting initials through."""
    value = text.strip().upper()
    if not ENTRY.fullmatch(value):
        raise ValueError(f"not a blocklist entry (ABC or AB*): {text!r}")
    return value


def entries_in(lines: Iterable[str]) -> list[str]:
    """The entries in a list's lines: ``#`` comments and blank lines skipped."""
    found = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if text:
            try:
                found.append(entry(text))
            except ValueError as exc:
                raise ValueError(f"line {number}: {exc}") from None
    return found


@cache
def file_entries(path: Path = PATH) -> tuple[str, ...]:
    """The data file's entries, read once per process (a new line needs a restart)."""
    with path.open(encoding="utf-8") as lines:
        return tuple(entries_in(lines))


def build(entries: Iterable[str], extra: Iterable[str] = ()) -> Blocklist:
    """The list of ``entries`` (usually ``file_entries()``) plus ``extra`` ones."""
    checked = [entry(e) for e in (*entries, *extra)]
    return Blocklist(words=frozenset(e for e in checked if not e.endswith("*")),
                     prefixes=frozenset(e[:-1] for e in checked if e.endswith("*")))


@cache
def current() -> Blocklist:
    """This process's list: the data file's entries."""
    return build(file_entries())


def allows(initials: object) -> bool:
    """Whether ``initials`` may be stored and shown on the wall."""
    return not current().refuses(initials)
