"""Initials checked by character on PostgreSQL, whatever the database's collation.

0001 checks each letter with ``BETWEEN 'A' AND 'Z'``, which follows the database's collation:
in en_US (the postgres image's default) 'Ä' and 'É' sort between A and Z, so 'ÄBC' passed.
A regular expression matches characters instead. SQLite compares text by code point (its
BINARY collation), where 0001's check is right: nothing changes there.

0001's constraints carry their names twice ("ck_games_ck_games_initials": the naming
convention was applied to names already complete); the new one is named as the models say.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OLD_NAME, NEW_NAME = "ck_games_ck_games_initials", "ck_games_initials"
OLD_CHECK = ("initials IS NULL OR (length(initials) = 3 AND upper(initials) = initials"
             " AND substr(initials, 1, 1) BETWEEN 'A' AND 'Z'"
             " AND substr(initials, 2, 1) BETWEEN 'A' AND 'Z'"
             " AND substr(initials, 3, 1) BETWEEN 'A' AND 'Z')")
NEW_CHECK = "initials IS NULL OR initials ~ '^[A-Z]{3}$'"


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _on_postgresql():
        op.drop_constraint(op.f(OLD_NAME), "games", type_="check")
        op.create_check_constraint(op.f(NEW_NAME), "games", NEW_CHECK)


def downgrade() -> None:
    if _on_postgresql():
        op.drop_constraint(op.f(NEW_NAME), "games", type_="check")
        op.create_check_constraint(op.f(OLD_NAME), "games", OLD_CHECK)
