"""/upload's "Was the AI right?": one row per uploaded photo judged by its visitor.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_verdicts",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("ai_guess", sa.String(255), nullable=False),
        sa.Column("right", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_upload_verdicts"),
    )
    op.create_index("ix_upload_verdicts_at", "upload_verdicts", ["at"])


def downgrade() -> None:
    op.drop_index("ix_upload_verdicts_at", table_name="upload_verdicts")
    op.drop_table("upload_verdicts")
