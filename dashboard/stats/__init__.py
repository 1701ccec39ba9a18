"""Humans vs AI statistics: every finished or abandoned game, kept in a real database.

A SQLite file by default, PostgreSQL by URL, through SQLAlchemy 2.0: ``records`` (the values
handed in and out), ``schema`` (the tables), ``database`` (engine, lock, Alembic migrations in
``migrations/``), ``queries`` (``Stats``: reads and writes) and ``api`` (``GET /api/stats``).
The game writes only through ``dashboard.scoreboard``, which survives a failing database.
"""
from dashboard.stats.api import api
from dashboard.stats.database import make_engine, open_stats
from dashboard.stats.queries import Stats
from dashboard.stats.records import (
    CarMisses,
    Fooling,
    GameRecord,
    RoundRecord,
    TopEntry,
    check_initials,
)

__all__ = ["CarMisses", "Fooling", "GameRecord", "RoundRecord", "Stats", "TopEntry", "api",
           "check_initials", "make_engine", "open_stats"]
