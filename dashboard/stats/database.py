"""Opening the statistics database: one engine per process, its driver and transaction
settings, and the schema created or migrated by Alembic under a lock (every gunicorn worker
opens it at the same moment)."""
from __future__ import annotations

import fcntl
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url

from dashboard.stats.queries import Stats

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 15.0  # how long a writer waits for another process's write to finish
PG_LOCK_KEY = 0x5354415453  # "STATS": the advisory lock that serialises migrations


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
