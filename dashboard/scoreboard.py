"""What the statistics learn from the game, and the numbers the pages show: the one place the
pages write to the statistics (a game as it ends, initials, an upload's verdict), so that a
database that fails costs these numbers, never the game."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import PurePosixPath
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from dashboard import blocklist, metrics
from dashboard.game import Game
from dashboard.i18n import current
from dashboard.stats import Fooling, GameRecord, RoundRecord, Stats, TopEntry
from dashboard.stats.records import ShowRecord, WallEntry
from dashboard.store import GameStore

log = logging.getLogger(__name__)


def photo_file(source: str) -> str:
    """``/photos/00123.jpg`` → ``00123.jpg``: the pool photo, as the statistics name it."""
    return PurePosixPath(source).name


def record_of(game: Game, finished: bool, now: datetime | None = None) -> GameRecord:
    """The game as the statistics keep it: its played rounds (all of them when finished), in
    the language the visitor played it in (the one the page is rendered in as it ends)."""
    played = game.rounds if finished else [r for r in game.rounds if r.guess is not None]
    ended = now or datetime.now(UTC)
    return GameRecord(
        id=game.id, mode=game.mode, language=current(), finished=finished,
        started_at=min(datetime.fromtimestamp(game.started, UTC), ended), ended_at=ended,
        rounds=tuple(RoundRecord(
            photo=photo_file(r.source), true_class=r.answer.class_name,
            guess=r.guess.class_name if r.guess else None, ai_guess=r.ai_guess.class_name,
            human_points=r.your_points, ai_points=r.ai_points, seconds=r.seconds,
        ) for r in played))


class WallReads(Protocol):
    """The queries the wall reads (``pages/wall.py``), and nothing that writes."""

    def totals(self, day: date | None = None) -> dict[str, int]: ...
    def rounds(self, day: date | None = None) -> int: ...
    def top(self, day: date | None, n: int = 10,
            keep: Callable[[str], bool] | None = None) -> list[TopEntry]: ...
    def fooling(self, n: int = 5) -> Fooling: ...
    def upload_verdicts(self, day: date | None = None) -> dict[str, int]: ...
    def show_totals(self, day: date | None = None) -> dict[str, int]: ...


class ConsoleReads(WallReads, Protocol):
    """What the operator's console reads besides the wall's figures: the day's entries."""

    def entries(self, day: date) -> list[WallEntry]: ...


class InitialsSaved(Enum):
    """What became of a visitor's initials: the finish page says each in its own words."""
    SAVED = "saved"
    NOT_FINISHED = "not finished"  # no finished game has this id
    REFUSED = "refused"  # on the blocklist (or not three letters A-Z): nothing stored
    UNAVAILABLE = "unavailable"  # the database failed: the visitor may try again


class Scoreboard:
    """The statistics as the game uses them; every write survives a failing database."""

    def __init__(self, stats: Stats,
                 allows: Callable[[object], bool] = blocklist.allows) -> None:
        """``allows``: may these initials go on the wall? (The event's blocklist: the data
        file's entries and the console's; by default the data file's alone.)"""
        self._stats = stats
        self.allows = allows
        blocklist.current()  # read now: a bad line in the list stops the start, not a save

    @property
    def reads(self) -> WallReads:
        """The wall's queries: it handles a failing database itself (it keeps what it
        shows)."""
        return self._stats

    def finished(self, game: Game) -> None:
        metrics.game_finished(game.mode, game.winner())  # counted even if the database fails
        self._record(game, finished=True)

    def abandon(self, store: GameStore, session_id: str) -> None:
        """Give the session's game up: gone from the store, and counted as abandoned if it was
        left before its end with a round played."""
        game = store.get(session_id)
        if game is not None and not game.finished and any(r.guess for r in game.rounds):
            self._record(game, finished=False)
        store.delete(session_id)

    def _record(self, game: Game, finished: bool) -> None:
        try:
            self._stats.record(record_of(game, finished))
        except (SQLAlchemyError, ValueError) as exc:
            log.warning("game not recorded", extra={"game": game.id, "error": str(exc)})
            metrics.database_errors.inc()

    def show_ended(self, show: ShowRecord) -> None:
        """A crowd show as it ended, with every phone's answer."""
        try:
            self._stats.record_show(show)
        except (SQLAlchemyError, ValueError) as exc:
            log.warning("show not recorded", extra={"show": show.id, "error": str(exc)})
            metrics.database_errors.inc()

    def set_initials(self, game_id: str, initials: str) -> InitialsSaved:
        """Put initials on a finished game, unless the blocklist refuses them: every write of
        initials passes here, so none reaches the wall unchecked."""
        if not self.allows(initials):
            log.info("initials refused", extra={"game": game_id})
            return InitialsSaved.REFUSED
        try:
            stored = self._stats.set_initials(game_id, initials)
        except SQLAlchemyError as exc:
            log.warning("initials not saved", extra={"game": game_id, "error": str(exc)})
            metrics.database_errors.inc()
            return InitialsSaved.UNAVAILABLE
        return InitialsSaved.SAVED if stored else InitialsSaved.NOT_FINISHED

    @property
    def console_reads(self) -> ConsoleReads:
        """The console's queries (it says so itself when the database fails)."""
        return self._stats

    def set_hidden(self, game_id: str, hidden: bool) -> bool | None:
        """The operator takes an entry off the wall, or puts it back: True if done, False if
        no finished game with initials has this id, None if the database failed."""
        try:
            return self._stats.set_hidden(game_id, hidden)
        except SQLAlchemyError as exc:
            log.warning("wall entry not changed", extra={"game": game_id, "error": str(exc)})
            metrics.database_errors.inc()
            return None

    def clear_board(self, day: date) -> int | None:
        """The operator clears the day's board (every entry hidden, none deleted): how many
        were shown; None if the database failed."""
        try:
            return self._stats.hide_day(day)
        except SQLAlchemyError as exc:
            log.warning("board not cleared", extra={"error": str(exc)})
            metrics.database_errors.inc()
            return None

    def upload_verdict(self, upload_id: str, ai_guess: str, right: bool) -> None:
        """/upload's "Was the AI right?", stored once per upload."""
        try:
            stored = self._stats.record_upload_verdict(upload_id, ai_guess, right)
        except (SQLAlchemyError, ValueError) as exc:
            log.warning("upload verdict not recorded", extra={"error": str(exc)})
            metrics.database_errors.inc()
            stored = True  # the visitor judged it: counted, whatever the database did
        if stored:  # False: this upload was judged already
            metrics.upload_verdicts.labels("right" if right else "wrong").inc()

    def share_right(self, source: str) -> float | None:
        """Share of visitors who named this photo's car exactly; None: nobody yet."""
        try:
            return self._stats.photo_share_right(photo_file(source))
        except SQLAlchemyError:
            metrics.database_errors.inc()
            return None

    def beaten_today(self, points: int) -> float | None:
        """Share of today's finished games with fewer points than ``points``."""
        try:
            return self._stats.beaten_share(points, datetime.now(UTC).date())
        except SQLAlchemyError:
            metrics.database_errors.inc()
            return None
