"""The stand's database tables (SQLAlchemy ORM), portable across SQLite and PostgreSQL: the
statistics, the operator console's sessions, lockouts and audit trail, and the event's own
settings, logo and blocklist entries. Alembic's revisions
in ``migrations/`` create and change them; these classes describe the newest."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from dashboard.game import POINTS_EXACT
from dashboard.stats.records import MAX_ROUNDS

FINISHED, ABANDONED = "finished", "abandoned"


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
    # Taken off the wall by the operator (the record stays): 0005.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
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


class ShowRow(Base):
    """A crowd show (dashboard/show/): the crowd's majority answers against the AI's."""
    __tablename__ = "shows"
    __table_args__ = (
        CheckConstraint("status IN ('finished', 'ended', 'empty')", name="status"),
        CheckConstraint("players >= 0 AND crowd_points >= 0 AND ai_points >= 0", name="counts"),
        CheckConstraint("ended_at >= started_at", name="order"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(8))
    players: Mapped[int] = mapped_column(Integer)
    crowd_points: Mapped[int] = mapped_column(Integer)
    ai_points: Mapped[int] = mapped_column(Integer)
    rounds: Mapped[list[ShowRoundRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ShowRoundRow.number")
    answers: Mapped[list[ShowAnswerRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True)


class ShowRoundRow(Base):
    __tablename__ = "show_rounds"
    __table_args__ = (
        CheckConstraint(f"number >= 0 AND number < {MAX_ROUNDS}", name="number"),
        CheckConstraint(f"crowd_points BETWEEN 0 AND {POINTS_EXACT}"
                        f" AND ai_points BETWEEN 0 AND {POINTS_EXACT}", name="points"),
        CheckConstraint("votes_right >= 0 AND votes_right <= answers", name="votes"),
    )

    show_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("shows.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    photo: Mapped[str] = mapped_column(String(255))
    true_class: Mapped[str] = mapped_column(String(255))
    crowd_guess: Mapped[str | None] = mapped_column(String(255))
    ai_guess: Mapped[str] = mapped_column(String(255))
    crowd_points: Mapped[int] = mapped_column(Integer)
    ai_points: Mapped[int] = mapped_column(Integer)
    answers: Mapped[int] = mapped_column(Integer)
    votes_right: Mapped[int] = mapped_column(Integer)


class ShowAnswerRow(Base):
    """One phone's answer to one round of a show; phones by number, nothing that names them
    (their nicknames stay in the show's own state, which expires)."""
    __tablename__ = "show_answers"
    __table_args__ = (CheckConstraint("points >= 0 AND seconds >= 0", name="values"),)

    show_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("shows.id", ondelete="CASCADE"), primary_key=True)
    round: Mapped[int] = mapped_column(Integer, primary_key=True)
    player: Mapped[int] = mapped_column(Integer, primary_key=True)
    choice: Mapped[str] = mapped_column(String(255))
    right: Mapped[bool] = mapped_column(Boolean)
    points: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)


# ---- the operator console's (dashboard/operator/auth.py) ----

class OperatorSession(Base):
    """A signed-in console: only the token's SHA-256 is kept, never the token."""
    __tablename__ = "operator_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    address: Mapped[str] = mapped_column(String(64))


class LoginFailures(Base):
    """Wrong passwords from one client address in a row, and until when it is locked out."""
    __tablename__ = "operator_failures"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One operator action (a login, a logout, a refused try, a change to the stand)."""
    __tablename__ = "operator_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    address: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(255))


# ---- the event's own look and rules, set in the console (dashboard/event/) ----

class EventSetting(Base):
    """One event setting (``dashboard.event.settings.FIELDS``), its value as JSON."""
    __tablename__ = "event_settings"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EventLogo(Base):
    """The exhibitor's logo, checked and re-encoded as PNG, by its SHA-256 (the settings name
    the one in use; only that one is kept)."""
    __tablename__ = "event_logos"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    png: Mapped[bytes] = mapped_column(LargeBinary)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BlockedInitials(Base):
    """A blocklist entry added in the console (``ABC`` or a prefix ``AB*``), beside the data
    file's."""
    __tablename__ = "blocked_initials"

    entry: Mapped[str] = mapped_column(String(3), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
