"""The statistics' reads and writes: one short session a call, thread-safe, idempotent per game
id (a game recorded twice, by a retried callback or two workers, counts once)."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import TypeVar

from sqlalchemy import Engine, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session

from dashboard.stats.records import (
    CarMisses,
    Fooling,
    GameRecord,
    ShowRecord,
    TopEntry,
    WallEntry,
    check_initials,
    check_text,
)
from dashboard.stats.schema import (
    ABANDONED,
    FINISHED,
    GameRow,
    RoundRow,
    ShowAnswerRow,
    ShowRoundRow,
    ShowRow,
    UploadVerdictRow,
)

log = logging.getLogger("dashboard.stats")
T = TypeVar("T")


class Stats:
    """Records games and answers the wall's questions; thread-safe, one short session a call."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(immediate=True)
        self._lock = threading.Lock()  # serialises this process's writers; others wait in SQL

    def close(self) -> None:
        self.engine.dispose()

    def _write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one write transaction; a lost insert race is retried (PostgreSQL)."""
        with self._lock:
            for attempt in range(3):
                try:
                    with Session(self._writer) as session, session.begin():
                        return work(session)
                except IntegrityError:
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

    def record(self, game: GameRecord) -> bool:
        """Store a game once; a finished record replaces an abandoned one. True if stored."""
        def work(session: Session) -> bool:
            existing = session.get(GameRow, game.id)
            if existing is not None:
                if existing.status == FINISHED or not game.finished:
                    return False
                session.delete(existing)
                session.flush()
            session.add(_row(game))
            return True
        stored = self._write(work)
        log.info("game recorded", extra={"game": game.id, "finished": game.finished,
                                         "stored": stored})
        return stored

    def set_initials(self, game_id: str, initials: str) -> bool:
        """Put initials on a finished game; False if no finished game has this id (yet)."""
        check_initials(initials)

        def work(session: Session) -> bool:
            result = session.execute(
                update(GameRow).where(GameRow.id == game_id, GameRow.status == FINISHED)
                .values(initials=initials))
            return result.rowcount == 1
        return self._write(work)

    def totals(self, day: date | None = None) -> dict[str, int]:
        """Humans vs AI over finished games: all time, or games that ended on one UTC day."""
        human, ai = GameRow.human_points, GameRow.ai_points
        query = select(
            func.count(), func.sum(case((human > ai, 1), else_=0)),
            func.sum(case((human < ai, 1), else_=0)), func.sum(case((human == ai, 1), else_=0)),
            func.sum(human), func.sum(ai),
        ).where(GameRow.status == FINISHED, *_on_day(day))
        with Session(self.engine) as session:
            row = session.execute(query).one()
        keys = ("games", "human_wins", "ai_wins", "draws", "human_points", "ai_points")
        return {key: int(value or 0) for key, value in zip(keys, row, strict=True)}

    def rounds(self, day: date | None = None) -> int:
        """Rounds played in finished games (for points per round on the wall)."""
        query = (select(func.count()).select_from(RoundRow).join(GameRow)
                 .where(GameRow.status == FINISHED, *_on_day(day)))
        with Session(self.engine) as session:
            return int(session.scalar(query) or 0)

    def photo_share_right(self, photo_file: str) -> float | None:
        """Share of visitors' answers on this photo that named the exact class; None: no data."""
        query = select(func.count(), func.sum(case((RoundRow.guess == RoundRow.true_class, 1),
                                                   else_=0))
                       ).where(RoundRow.photo == photo_file, RoundRow.guess.is_not(None))
        with Session(self.engine) as session:
            tries, right = session.execute(query).one()
        return right / tries if tries else None

    def beaten_share(self, points: int, day: date) -> float:
        """Share of that day's finished games with fewer human points (0.0 when none)."""
        query = select(func.count(), func.sum(case((GameRow.human_points < points, 1), else_=0))
                       ).where(GameRow.status == FINISHED, *_on_day(day))
        with Session(self.engine) as session:
            games, beaten = session.execute(query).one()
        return beaten / games if games else 0.0

    def top(self, day: date | None, n: int = 10,
            keep: Callable[[str], bool] | None = None) -> list[TopEntry]:
        """Best finished games with initials: most points, then widest margin, then earliest.
        With ``keep``, only initials it accepts, still ``n`` of them if there are: the rows are
        read in order until ``n`` are kept (the wall asks for one day's games)."""
        query = (select(GameRow.initials, GameRow.human_points, GameRow.ai_points)
                 .where(GameRow.status == FINISHED, GameRow.initials.is_not(None),
                        GameRow.hidden.is_(False), *_on_day(day))
                 .order_by(GameRow.human_points.desc(),
                           (GameRow.human_points - GameRow.ai_points).desc(),
                           GameRow.ended_at, GameRow.id))
        if keep is None:
            query = query.limit(n)
        with Session(self.engine) as session:
            entries = (TopEntry(*row) for row in session.execute(query))
            return list(islice((e for e in entries if keep is None or keep(e.initials)), n))

    def entries(self, day: date) -> list[WallEntry]:
        """The day's finished games with initials, hidden ones too, best first (the
        operator's list of the wall)."""
        query = (select(GameRow.id, GameRow.initials, GameRow.human_points, GameRow.ai_points,
                        GameRow.hidden)
                 .where(GameRow.status == FINISHED, GameRow.initials.is_not(None), *_on_day(day))
                 .order_by(GameRow.human_points.desc(),
                           (GameRow.human_points - GameRow.ai_points).desc(),
                           GameRow.ended_at, GameRow.id))
        with Session(self.engine) as session:
            return [WallEntry(*row) for row in session.execute(query)]

    def set_hidden(self, game_id: str, hidden: bool) -> bool:
        """Take a game's initials off the wall, or put them back; False if no finished game
        with initials has this id."""
        def work(session: Session) -> bool:
            result = session.execute(
                update(GameRow).where(GameRow.id == game_id, GameRow.status == FINISHED,
                                      GameRow.initials.is_not(None)).values(hidden=hidden))
            return result.rowcount == 1
        return self._write(work)

    def hide_day(self, day: date) -> int:
        """Clear the day's board: every entry of that day hidden; how many were shown."""
        def work(session: Session) -> int:
            result = session.execute(
                update(GameRow).where(GameRow.status == FINISHED, GameRow.initials.is_not(None),
                                      GameRow.hidden.is_(False), *_on_day(day))
                .values(hidden=True))
            return result.rowcount
        return self._write(work)

    def record_upload_verdict(self, upload_id: str, ai_guess: str, right: bool,
                              at: datetime | None = None) -> bool:
        """/upload's "Was the AI right?": stored once per upload; True if stored now."""
        check_text("upload_id", upload_id, 64)
        check_text("ai_guess", ai_guess)

        def work(session: Session) -> bool:
            if session.get(UploadVerdictRow, upload_id) is not None:
                return False
            session.add(UploadVerdictRow(id=upload_id, at=at or datetime.now(UTC),
                                         ai_guess=ai_guess, right=bool(right)))
            return True
        return self._write(work)

    def upload_verdicts(self, day: date | None = None) -> dict[str, int]:
        """How visitors judged the AI on their own photos: {"right": n, "wrong": n}, all time
        or on one UTC day."""
        query = select(func.count(), func.sum(case((UploadVerdictRow.right, 1), else_=0))
                       ).where(*_on_day(day, UploadVerdictRow.at))
        with Session(self.engine) as session:
            total, right = session.execute(query).one()
        return {"right": int(right or 0), "wrong": int(total) - int(right or 0)}

    def record_show(self, show: ShowRecord) -> bool:
        """Store a crowd show once (two workers may both see it end). True if stored."""
        def work(session: Session) -> bool:
            if session.get(ShowRow, show.id) is not None:
                return False
            session.add(ShowRow(
                id=show.id, started_at=show.started_at, ended_at=show.ended_at,
                status=show.status, language=show.language, players=show.players,
                crowd_points=show.crowd_points, ai_points=show.ai_points,
                rounds=[ShowRoundRow(number=i, **asdict(r)) for i, r in enumerate(show.rounds)],
                answers=[ShowAnswerRow(**asdict(a)) for a in show.answers]))
            return True
        return self._write(work)

    def show_totals(self, day: date | None = None) -> dict[str, int]:
        """Crowd vs AI over shows that were played (anyone joined): all time or one UTC day."""
        crowd, ai = ShowRow.crowd_points, ShowRow.ai_points
        query = select(
            func.count(), func.sum(case((crowd > ai, 1), else_=0)),
            func.sum(case((crowd < ai, 1), else_=0)), func.sum(case((crowd == ai, 1), else_=0)),
            func.sum(ShowRow.players),
        ).where(ShowRow.status != "empty", *_on_day(day, ShowRow.ended_at))
        with Session(self.engine) as session:
            row = session.execute(query).one()
        keys = ("shows", "crowd_wins", "ai_wins", "draws", "phones")
        return {key: int(value or 0) for key, value in zip(keys, row, strict=True)}

    def fooling(self, n: int = 5) -> Fooling:
        """The cars most often guessed wrong, by visitors (answered rounds) and by the AI."""
        with Session(self.engine) as session:
            return Fooling(
                visitors=_misses(session, RoundRow.guess, n),
                ai=_misses(session, RoundRow.ai_guess, n))


def _misses(session: Session, guess: Mapped[str] | Mapped[str | None], n: int) -> list[CarMisses]:
    wrong = func.sum(case((guess != RoundRow.true_class, 1), else_=0))
    tries = func.count()
    query = (select(RoundRow.true_class, wrong, tries).where(guess.is_not(None))
             .group_by(RoundRow.true_class).having(wrong > 0)
             .order_by(wrong.desc(), (wrong * 1.0 / tries).desc(), RoundRow.true_class)
             .limit(n))
    return [CarMisses(name, int(w), int(t)) for name, w, t in session.execute(query)]


def _on_day(day: date | None, column: Mapped[datetime] = GameRow.ended_at) -> tuple:
    if day is None:
        return ()
    start = datetime.combine(day, time(), UTC)
    return column >= start, column < start + timedelta(days=1)


def _row(game: GameRecord) -> GameRow:
    return GameRow(
        id=game.id, started_at=game.started_at, ended_at=game.ended_at, mode=game.mode,
        language=game.language, status=FINISHED if game.finished else ABANDONED,
        initials=game.initials, human_points=game.human_points, ai_points=game.ai_points,
        rounds=[RoundRow(number=i, photo=r.photo, true_class=r.true_class, guess=r.guess,
                         ai_guess=r.ai_guess, human_points=r.human_points,
                         ai_points=r.ai_points, seconds=r.seconds)
                for i, r in enumerate(game.rounds)])
