"""The visitor's language: every text a page shows goes through gettext here.

English is the source language (the texts in the code are the msgids); German comes from the
catalog ``de/LC_MESSAGES/messages.po``, which ``make setup`` compiles with Babel
(``make translations`` extracts and updates it). Each request renders in one language: the
callbacks run their work inside ``use(language)``, so nothing global changes between the
threads that serve visitors in different languages. Car names never pass through here.
"""
from __future__ import annotations

import gettext
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, wraps
from pathlib import Path
from typing import Any, TypeVar

from babel import Locale, numbers

CATALOGS = Path(__file__).parent
DOMAIN = "messages"
SOURCE = "en"  # the language the texts are written in
LANGUAGES = (SOURCE, "de")
NAMES = {"en": "English", "de": "Deutsch"}  # each language in its own words, for the switch
_current: ContextVar[str] = ContextVar("language", default=SOURCE)
F = TypeVar("F", bound=Callable[..., Any])


def catalog_path(language: str, suffix: str = ".mo") -> Path:
    return CATALOGS / language / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog; missing means setup did not run, which must not pass as English."""
    if language == SOURCE:
        return gettext.NullTranslations()  # English plurals: n == 1 → singular
    path = catalog_path(language)
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run `make setup` (pybabel compile)")
    with path.open("rb") as mo:
        return gettext.GNUTranslations(mo)


def language_of(value: object) -> str:
    """``value`` if it is a language we speak, else the source language."""
    return value if isinstance(value, str) and value in LANGUAGES else SOURCE


def current() -> str:
    return _current.get()


@contextmanager
def use(language: object) -> Iterator[str]:
    """Render in ``language`` (anything unknown: English) for the duration of the block."""
    token = _current.set(language_of(language))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def in_language(callback: F) -> F:
    """For a Dash callback whose last argument is the visitor's language (the ``language``
    store): its work runs in that language."""
    @wraps(callback)
    def run(*args: Any) -> Any:
        *rest, language = args
        with use(language):
            return callback(*rest)

    return run  # type: ignore[return-value]


def _(message: str) -> str:
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a text for the catalog where it is defined; ``_()`` translates it where shown."""
    return message


def percent(share: float, digits: int = 0) -> str:
    """A share as the language writes it: "42%" in English, "42 %" in German; with
    ``digits`` decimals, "84.9%" and "84,9 %"."""
    locale = Locale.parse(current())
    pattern = locale.percent_formats[None].pattern
    if digits:
        last = pattern.rindex("0")  # the units digit: the decimals go after it
        pattern = f"{pattern[:last + 1]}.{'0' * digits}{pattern[last + 1:]}"
    return numbers.format_percent(share, format=pattern, locale=locale)


def decimal(value: float, digits: int = 1) -> str:
    """"1.5" in English, "1,5" in German."""
    return numbers.format_decimal(value, format=f"0.{'0' * digits}", locale=current())


def negotiate(accepted: list[str]) -> str:
    """The first of the browser's languages (best first) that we speak; else English."""
    found = Locale.negotiate(accepted, list(LANGUAGES), sep="-")
    return found.language if found is not None else SOURCE
