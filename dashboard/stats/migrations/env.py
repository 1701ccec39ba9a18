"""Alembic environment: migrates the connection that ``dashboard.stats.open_stats`` opened.

Online only, and only with a connection handed over in ``config.attributes``: the URL, the
lock and the engine's settings live in one place, dashboard.stats.database.
"""
from alembic import context

from dashboard.stats.schema import Base

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("run migrations through dashboard.stats.open_stats (online, connected)")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
