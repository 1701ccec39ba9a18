"""The console's CSV exports' reads: games, their rounds and /upload's verdicts over a range of
UTC days, as plain rows in a stable order.

Read in keyset pages, each in its own short session, so that a slow download neither holds a
database connection nor keeps a read transaction open (SQLite's WAL could not be checkpointed
meanwhile). A game's day is the UTC day it ended on, as on the wall (``queries._on_day``); a
round belongs to its game's day; a verdict to the day it was given.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, or_, select
from sqlalchemy.orm import Session

from dashboard.stats.schema import GameRow, RoundRow, UploadVerdictRow

PAGE = 1000  # rows a session reads at a time


@dataclass(frozen=True)
class Export:
    """One kind of export: its header, what each column holds, the column whose UTC day puts a
    row in a range, and a unique key that orders the rows."""
    header: tuple[str, ...]
    columns: tuple[Any, ...]
    day: Any
    key: tuple[Any, ...]
    joins_game: bool = False


EXPORTS: dict[str, Export] = {
    "games": Export(
        header=("id", "started_at", "ended_at", "mode", "language", "status", "initials",
                "human_points", "ai_points"),
        columns=(GameRow.id, GameRow.started_at, GameRow.ended_at, GameRow.mode,
                 GameRow.language, GameRow.status, GameRow.initials, GameRow.human_points,
                 GameRow.ai_points),
        day=GameRow.ended_at, key=(GameRow.ended_at, GameRow.id)),
    "rounds": Export(
        header=("game_id", "number", "photo", "true_class", "guess", "ai_guess",
                "human_points", "ai_points", "seconds", "game_ended_at"),
        columns=(RoundRow.game_id, RoundRow.number, RoundRow.photo, RoundRow.true_class,
                 RoundRow.guess, RoundRow.ai_guess, RoundRow.human_points, RoundRow.ai_points,
                 RoundRow.seconds, GameRow.ended_at),
        day=GameRow.ended_at, key=(GameRow.ended_at, RoundRow.game_id, RoundRow.number),
        joins_game=True),
    "upload-verdicts": Export(
        header=("id", "at", "ai_guess", "right"),
        columns=(UploadVerdictRow.id, UploadVerdictRow.at, UploadVerdictRow.ai_guess,
                 UploadVerdictRow.right),
        day=UploadVerdictRow.at, key=(UploadVerdictRow.at, UploadVerdictRow.id)),
}


def rows(engine: Engine, kind: str, first: date | None, last: date | None,
         page: int = PAGE) -> Iterator[Sequence[Any]]:
    """Every ``kind`` row whose UTC day lies from ``first`` to ``last`` (inclusive; None: no
    bound), in the order of its key. A ``KeyError`` for an unknown kind."""
    export = EXPORTS[kind]
    width = len(export.columns)
    query = select(*export.columns, *export.key).where(*on_days(export.day, first, last))
    if export.joins_game:
        query = query.select_from(RoundRow).join(GameRow)
    query = query.order_by(*export.key).limit(page)
    after: Sequence[Any] | None = None
    while True:
        with Session(engine) as session:
            batch = list(session.execute(
                query if after is None else query.where(_after(export.key, after))))
        for row in batch:
            yield tuple(row[:width])
        if len(batch) < page:
            return
        after = tuple(batch[-1][width:])


def on_days(column: Any, first: date | None, last: date | None) -> tuple[ColumnElement, ...]:
    """``column`` within the UTC days ``first`` to ``last``, both included; None: no bound."""
    bounds = []
    if first is not None:
        bounds.append(column >= datetime.combine(first, time(), UTC))
    if last is not None:
        bounds.append(column < datetime.combine(last + timedelta(days=1), time(), UTC))
    return tuple(bounds)


def _after(key: Sequence[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows past ``values`` in the order of ``key``: the next page's start. Spelled out rather
    than as a row-value comparison, so that every column binds with its own type (UTC)."""
    head = key[0] > values[0]
    if len(key) == 1:
        return head
    return or_(head, and_(key[0] == values[0], _after(key[1:], values[1:])))
