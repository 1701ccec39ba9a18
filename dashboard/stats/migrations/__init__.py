"""Alembic migrations of the statistics database (configured in code by dashboard.stats)."""
