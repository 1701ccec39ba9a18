"""Humans vs AI statistics: every finished or abandoned game, kept in a real database.

A SQLite file by default, PostgreSQL by URL, through SQLAlchemy 2.0. The schema is created
and migrated by Alembic when a process opens the database, under a lock, because every
gunicorn worker opens it at the same moment. Writes are idempotent per game id, so a game
recorded twice (a retried callback, two workers) counts once. Plain Python: no Dash here.
"""
from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from flask import Blueprint, jsonify, request
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    case,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from dashboard.game import POINTS_EXACT

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MODES = ("expert", "easy")
FINISHED, ABANDONED = "finished", "abandoned"
INITIALS = re.compile(r"[A-Z]{3}")
LANGUAGE = re.compile(r"[a-z]{2}")
MAX_ROUNDS = 50
BUSY_TIMEOUT_S = 15.0  # how long a writer waits for another process's write to finish
PG_LOCK_KEY = 0x5354415453  # "STATS": the advisory lock that serialises migrations

Mode = Literal["expert", "easy"]


# ---- what the game hands over ------------------------------------------------------------

@dataclass(frozen=True)
class RoundRecord:
    """One played round, as plain values: class names as the model names them."""
    photo: str  # the pool photo's file name
    true_class: str
    guess: str | None  # None: the visitor did not answer
    ai_guess: str
    human_points: int
    ai_points: int
    seconds: float | None = None  # time to answer; None when unknown or unanswered

    def __post_init__(self) -> None:
        for name in ("photo", "true_class", "ai_guess"):
            _check_text(name, getattr(self, name))
        if self.guess is not None:
            _check_text("guess", self.guess)
        for name in ("human_points", "ai_points"):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= POINTS_EXACT:
                raise ValueError(f"{name} must be an integer from 0 to {POINTS_EXACT}")
        if self.seconds is not None and not 0 <= self.seconds < 1e6:
            raise ValueError("seconds must be >= 0")


@dataclass(frozen=True)
class GameRecord:
    """One game as it ended: finished (every round played) or abandoned (visitor walked off)."""
    id: str  # the game's own id
    started_at: datetime  # timezone-aware
    ended_at: datetime  # timezone-aware; the UTC day of this instant is the game's day
    mode: Mode
    language: str  # "en", "de"
    finished: bool
    rounds: tuple[RoundRecord, ...]
    initials: str | None = None

    def __post_init__(self) -> None:
        _check_text("id", self.id, 64)
        if self.started_at.tzinfo is None or self.ended_at.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        if self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if not LANGUAGE.fullmatch(self.language):
            raise ValueError("language must be a 2-letter code")
        if len(self.rounds) > MAX_ROUNDS:
            raise ValueError(f"at most {MAX_ROUNDS} rounds")
        if self.initials is not None:
            check_initials(self.initials)

    @property
    def human_points(self) -> int:
        return sum(r.human_points for r in self.rounds)

    @property
    def ai_points(self) -> int:
        return sum(r.ai_points for r in self.rounds)


def check_initials(initials: str) -> str:
    """Arcade initials: exactly three letters A–Z."""
    if not isinstance(initials, str) or not INITIALS.fullmatch(initials):
        raise ValueError("initials must be 3 letters A-Z")
    return initials


def _check_text(name: str, value: object, limit: int = 255) -> None:
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise ValueError(f"{name} must be a non-empty string of at most {limit} characters")


# ---- what the queries hand back ----------------------------------------------------------

@dataclass(frozen=True)
class TopEntry:
    initials: str
    human_points: int
    ai_points: int


@dataclass(frozen=True)
class CarMisses:
    """A car and how often it was guessed wrong (not the exact class) out of how many tries."""
    class_name: str
    wrong: int
    tries: int

    @property
    def share(self) -> float:
        return self.wrong / self.tries


@dataclass(frozen=True)
class Fooling:
    visitors: list[CarMisses]  # the cars visitors miss most
    ai: list[CarMisses]  # the cars the AI misses most


# ---- schema --------------------------------------------------------------------------------

class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (portable across SQLite and PostgreSQL), handed back aware."""
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class GameRow(Base):
    __tablename__ = "games"
    __table_args__ = (
        CheckConstraint("length(id) BETWEEN 1 AND 64", name="id_length"),
        CheckConstraint("mode IN ('expert', 'easy')", name="mode"),
        CheckConstraint("status IN ('finished', 'abandoned')", name="status"),
        CheckConstraint("length(language) = 2", name="language"),
        # By code point: SQLite compares text so (BINARY); PostgreSQL follows the collation,
        # where 'Ä' lies between 'A' and 'Z', so it matches a regular expression (0002).
        CheckConstraint(
            "initials IS NULL OR (length(initials) = 3 AND upper(initials) = initials"
            " AND substr(initials, 1, 1) BETWEEN 'A' AND 'Z'"
            " AND substr(initials, 2, 1) BETWEEN 'A' AND 'Z'"
            " AND substr(initials, 3, 1) BETWEEN 'A' AND 'Z')", name="initials",
        ).ddl_if(dialect="sqlite"),
        CheckConstraint("initials IS NULL OR initials ~ '^[A-Z]{3}$'", name="initials",
                        ).ddl_if(dialect="postgresql"),
        CheckConstraint("human_points >= 0 AND ai_points >= 0", name="points"),
        CheckConstraint("ended_at >= started_at", name="order"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    mode: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10))
    initials: Mapped[str | None] = mapped_column(String(3))
    human_points: Mapped[int] = mapped_column(Integer)
    ai_points: Mapped[int] = mapped_column(Integer)
    rounds: Mapped[list[RoundRow]] = relationship(
        back_populates="game", cascade="all, delete-orphan", passive_deletes=True,
        order_by="RoundRow.number")


class RoundRow(Base):
    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint(f"number >= 0 AND number < {MAX_ROUNDS}", name="number"),
        CheckConstraint(f"human_points BETWEEN 0 AND {POINTS_EXACT}"
                        f" AND ai_points BETWEEN 0 AND {POINTS_EXACT}", name="points"),
        CheckConstraint("seconds IS NULL OR seconds >= 0", name="seconds"),
        CheckConstraint("length(photo) > 0 AND length(true_class) > 0"
                        " AND length(ai_guess) > 0", name="names"),
    )

    game_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("games.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0-based round index
    photo: Mapped[str] = mapped_column(String(255), index=True)
    true_class: Mapped[str] = mapped_column(String(255))
    guess: Mapped[str | None] = mapped_column(String(255))
    ai_guess: Mapped[str] = mapped_column(String(255))
    human_points: Mapped[int] = mapped_column(Integer)
    ai_points: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float | None] = mapped_column(Float)
    game: Mapped[GameRow] = relationship(back_populates="rounds")


class UploadVerdictRow(Base):
    """/upload: a visitor's own photo, the AI's top-1 for it and whether the visitor says it
    was right. The photo itself is not kept here."""
    __tablename__ = "upload_verdicts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # one verdict per upload
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ai_guess: Mapped[str] = mapped_column(String(255))
    right: Mapped[bool] = mapped_column(Boolean)


# ---- opening: one engine per process, migrated under a lock --------------------------------

def open_stats(url: str) -> Stats:
    """Open (and create or migrate to the newest schema) the statistics database at ``url``."""
    engine = make_engine(url)
    with _migration_lock(engine), engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return Stats(engine)


def alembic_config() -> Config:
    """Alembic configured in code: no alembic.ini; env.py takes the connection we pass."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def make_engine(url: str) -> Engine:
    """The one place a database URL becomes an engine, with its driver and settings.

    A plain ``postgresql://`` URL (as docker-compose and most hosts write it) means
    SQLAlchemy's default driver, psycopg2, which we do not install: every PostgreSQL URL is
    served by psycopg 3 instead, whatever driver it names.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError("the statistics need a SQLite file, not an in-memory database")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_S})
        _sqlite_transactions(engine)
    elif parsed.get_backend_name() == "postgresql":
        engine = create_engine(
            parsed.set(drivername="postgresql+psycopg"), pool_pre_ping=True, pool_size=2,
            connect_args={"connect_timeout": 5,
                          "options": f"-c statement_timeout={int(BUSY_TIMEOUT_S * 1000)}"})
    else:
        raise ValueError("the statistics need a sqlite:// or postgresql:// URL")
    # A forked worker must not share its parent's connections (gunicorn --preload).
    ref = weakref.ref(engine)
    os.register_at_fork(after_in_child=lambda: (e := ref()) is not None and e.dispose(close=False))
    return engine


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not the driver, begin transactions; writers begin IMMEDIATE.

    A deferred transaction that reads first and then writes can fail at once with "database
    is locked" when another process writes; BEGIN IMMEDIATE waits (busy timeout) instead.
    """
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:  # noqa: ANN001 (DB-API objects)
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        dbapi_conn.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # noqa: ANN001
        immediate = conn.get_execution_options().get("immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One process migrates at a time: a file lock next to SQLite, an advisory lock on PG."""
    if engine.dialect.name == "sqlite":
        lock_path = Path(f"{engine.url.database}.migrate.lock")
        with lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    else:
        with engine.connect() as conn:
            conn.execute(select(func.pg_advisory_lock(PG_LOCK_KEY)))
            conn.commit()
            try:
                yield
            finally:
                conn.execute(select(func.pg_advisory_unlock(PG_LOCK_KEY)))
                conn.commit()


# ---- the statistics ------------------------------------------------------------------------

class Stats:
    """Records games and answers the wall's questions; thread-safe, one short session a call."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(immediate=True)
        self._lock = threading.Lock()  # serialises this process's writers; others wait in SQL

    def close(self) -> None:
        self.engine.dispose()

    def _write(self, work: Callable[[Session], bool]) -> bool:
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

    def top(self, day: date | None, n: int = 10) -> list[TopEntry]:
        """Best finished games with initials: most points, then widest margin, then earliest."""
        query = (select(GameRow.initials, GameRow.human_points, GameRow.ai_points)
                 .where(GameRow.status == FINISHED, GameRow.initials.is_not(None), *_on_day(day))
                 .order_by(GameRow.human_points.desc(),
                           (GameRow.human_points - GameRow.ai_points).desc(),
                           GameRow.ended_at, GameRow.id)
                 .limit(n))
        with Session(self.engine) as session:
            return [TopEntry(*row) for row in session.execute(query)]

    def record_upload_verdict(self, upload_id: str, ai_guess: str, right: bool,
                              at: datetime | None = None) -> bool:
        """/upload's "Was the AI right?": stored once per upload; True if stored now."""
        _check_text("upload_id", upload_id, 64)
        _check_text("ai_guess", ai_guess)

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


# ---- HTTP ----------------------------------------------------------------------------------

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def api(stats: Stats) -> Blueprint:
    """``GET /api/stats[?day=YYYY-MM-DD]``: the Humans vs AI totals as JSON, from the database,
    with how visitors judged the AI on their own photos (``upload_verdicts``)."""
    blueprint = Blueprint("stats_api", __name__)

    @blueprint.get("/api/stats")
    def totals():  # noqa: ANN202 (a Flask view)
        raw = request.args.get("day")
        day = None
        if raw is not None:
            try:
                if not DAY.fullmatch(raw):
                    raise ValueError(raw)
                day = date.fromisoformat(raw)
            except ValueError:
                return jsonify(error="day must be a date as YYYY-MM-DD"), 400
        try:
            body = {**stats.totals(day), "upload_verdicts": stats.upload_verdicts(day)}
        except SQLAlchemyError:
            log.exception("statistics unavailable")
            return jsonify(error="statistics unavailable"), 503, {"Retry-After": "5"}
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        return response

    return blueprint
