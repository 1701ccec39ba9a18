"""The event's own settings (name, colour, language, modes, makes…), its logo, and the
blocklist entries added in the operator console.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_settings",
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_event_settings"),
    )
    op.create_table(
        "event_logos",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_event_logos"),
    )
    op.create_table(
        "blocked_initials",
        sa.Column("entry", sa.String(3), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("entry", name="pk_blocked_initials"),
    )


def downgrade() -> None:
    op.drop_table("blocked_initials")
    op.drop_table("event_logos")
    op.drop_table("event_settings")
