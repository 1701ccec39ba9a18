"""The operator can take an entry off the wall (and put it back), and clear today's board:
a game's initials stay recorded, ``hidden`` keeps them off the top 10.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# A plain ALTER TABLE on both databases: SQLite adds and drops a column in place. A batch
# (copy-and-move) alteration of ``games`` would drop the old table, and with foreign keys on
# that deletes every round (ON DELETE CASCADE).


def upgrade() -> None:
    op.add_column("games", sa.Column("hidden", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("games", "hidden")
