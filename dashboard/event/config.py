"""The event's settings as every worker sees them: kept in the statistics database, followed
by each process every ``REFRESH_S`` on its loop, and read from memory by the pages.

A change in the console is written to the database and takes effect at once in the worker
that made it; the other workers (and other machines on the same database) follow within
``REFRESH_S``. A database that fails keeps the last settings read, so the stand plays on.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dashboard import blocklist
from dashboard.event.settings import FIELDS, Event
from dashboard.loop import Loop
from dashboard.settings import Settings
from dashboard.stats.schema import BlockedInitials, EventLogo, EventSetting

log = logging.getLogger(__name__)
REFRESH_S = 2.0
Listener = Callable[[Event, Event], None]


def _now() -> datetime:
    return datetime.now(UTC)


def _value(key: str, value: Any) -> Any:
    """A stored JSON value as the ``Event`` field holds it."""
    return tuple(value) if key in ("modes", "makes") else value


class EventConfig:
    def __init__(self, engine: Engine, settings: Settings,
                 file_entries: tuple[str, ...] | None = None) -> None:
        """``settings``: the dashboard's, whose language and idle time hold until the owner
        sets the event's; ``file_entries``: the blocklist's data file (default: the
        repository's)."""
        self._engine = engine.execution_options(immediate=True)  # SQLite: writers queue
        self._settings = settings
        self._file_entries = blocklist.file_entries() if file_entries is None else file_entries
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._logo: tuple[str, bytes] | None = None  # the last logo served, by digest
        self.current = Event()
        self.blocklist = blocklist.build(self._file_entries)
        try:
            self.refresh()
        except SQLAlchemyError as exc:
            log.warning("event settings unavailable: the game's defaults for now",
                        extra={"error": str(exc)})

    def start(self, loop: Loop) -> None:
        loop.spawn(self._follow())

    def when_changed(self, react: Listener) -> None:
        """Call ``react(old, new)`` (in the thread that noticed) whenever the settings change."""
        self._listeners.append(react)

    def language(self) -> str:
        """The language a visitor starts in, unless the page asks for one: the event's, else
        the dashboard's setting ("": the browser's preference)."""
        return self.current.language or self._settings.language

    def idle_seconds(self) -> float:
        """Seconds a game may go untouched before "Still playing?" asks."""
        return self.current.idle_seconds or self._settings.idle_seconds

    def allows(self, initials: object) -> bool:
        """May ``initials`` be stored and shown on the wall? (The data file's entries and the
        console's.)"""
        return not self.blocklist.refuses(initials)

    # --- reading ---

    def refresh(self) -> Event:
        """Read the settings now (raises SQLAlchemyError) and take them on."""
        with Session(self._engine) as session:
            stored = {row.key: json.loads(row.value)
                      for row in session.scalars(select(EventSetting))}
            blocked = tuple(session.scalars(select(BlockedInitials.entry)
                                            .order_by(BlockedInitials.entry)))
        values = {key: _value(key, stored[key]) for key in FIELDS if key in stored}
        self._take(Event(**values, blocked=blocked))
        return self.current

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_S)
            try:
                await asyncio.to_thread(self.refresh)
            except RuntimeError:  # the interpreter is shutting down: no thread takes work now
                return
            except SQLAlchemyError as exc:
                log.warning("event settings not read: keeping the last ones",
                            extra={"error": str(exc)})

    def _take(self, event: Event) -> None:
        with self._lock:
            old, self.current = self.current, event
            if event.blocked != old.blocked:
                self.blocklist = blocklist.build(self._file_entries, event.blocked)
        if event != old:
            log.info("event settings changed", extra={
                "changed": sorted(k for k in (*FIELDS, "blocked")
                                  if getattr(old, k) != getattr(event, k))})
            for react in self._listeners:
                react(old, event)

    def logo(self, digest: str) -> bytes | None:
        """The logo's PNG by its digest (raises SQLAlchemyError); None if it is not kept."""
        kept = self._logo
        if kept is not None and kept[0] == digest == self.current.logo:
            return kept[1]
        with Session(self._engine) as session:
            png = session.scalar(select(EventLogo.png).where(EventLogo.digest == digest))
        if png is not None:
            self._logo = (digest, png)
        return png

    # --- writing (the console's; each raises SQLAlchemyError) ---

    def save(self, **values: Any) -> Event:
        """Keep the given settings (already checked: ``dashboard.event.settings``)."""
        unknown = set(values) - set(FIELDS)
        if unknown:
            raise ValueError(f"not event settings: {sorted(unknown)}")
        with Session(self._engine) as session, session.begin():
            for key, value in values.items():
                session.merge(EventSetting(key=key, value=json.dumps(value),
                                           changed_at=_now()))
        return self.refresh()

    def save_logo(self, digest: str, png: bytes | None) -> Event:
        """Make ``png`` (named ``digest``) the logo, or remove the logo (``png`` None). Only
        the logo in use is kept."""
        with Session(self._engine) as session, session.begin():
            session.execute(delete(EventLogo).where(EventLogo.digest != digest))
            if png is not None:
                session.merge(EventLogo(digest=digest, png=png, added_at=_now()))
            session.merge(EventSetting(key="logo", value=json.dumps(digest if png else ""),
                                       changed_at=_now()))
        return self.refresh()

    def block(self, entry: str) -> bool:
        """Add a checked entry (``blocklist.entry``); False if it was on the list already."""
        if entry in self._file_entries or entry in self.refresh().blocked:
            return False
        with Session(self._engine) as session, session.begin():
            session.merge(BlockedInitials(entry=entry, added_at=_now()))
        self.refresh()
        return True

    def unblock(self, entry: str) -> bool:
        """Take an entry added in the console off; False if there was none (the data file's
        entries stay: they are the repository's)."""
        with Session(self._engine) as session, session.begin():
            gone = session.execute(delete(BlockedInitials)
                                   .where(BlockedInitials.entry == entry)).rowcount
        self.refresh()
        return bool(gone)
