"""Crowd shows (dashboard/show/): each show, its revealed rounds (the crowd's majority answer
against the AI's) and every phone's answer.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

POINTS_EXACT = 3
MAX_ROUNDS = 50


def upgrade() -> None:
    op.create_table(
        "shows",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("players", sa.Integer(), nullable=False),
        sa.Column("crowd_points", sa.Integer(), nullable=False),
        sa.Column("ai_points", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shows"),
        sa.CheckConstraint("status IN ('finished', 'ended', 'empty')", name="ck_shows_status"),
        sa.CheckConstraint("players >= 0 AND crowd_points >= 0 AND ai_points >= 0",
                           name="ck_shows_counts"),
        sa.CheckConstraint("ended_at >= started_at", name="ck_shows_order"),
    )
    op.create_index("ix_shows_ended_at", "shows", ["ended_at"])
    op.create_table(
        "show_rounds",
        sa.Column("show_id", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("photo", sa.String(255), nullable=False),
        sa.Column("true_class", sa.String(255), nullable=False),
        sa.Column("crowd_guess", sa.String(255), nullable=True),
        sa.Column("ai_guess", sa.String(255), nullable=False),
        sa.Column("crowd_points", sa.Integer(), nullable=False),
        sa.Column("ai_points", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("votes_right", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("show_id", "number", name="pk_show_rounds"),
        sa.ForeignKeyConstraint(["show_id"], ["shows.id"], ondelete="CASCADE",
                                name="fk_show_rounds_show_id_shows"),
        sa.CheckConstraint(f"number >= 0 AND number < {MAX_ROUNDS}",
                           name="ck_show_rounds_number"),
        sa.CheckConstraint(f"crowd_points BETWEEN 0 AND {POINTS_EXACT}"
                           f" AND ai_points BETWEEN 0 AND {POINTS_EXACT}",
                           name="ck_show_rounds_points"),
        sa.CheckConstraint("votes_right >= 0 AND votes_right <= answers",
                           name="ck_show_rounds_votes"),
    )
    op.create_table(
        "show_answers",
        sa.Column("show_id", sa.String(64), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("player", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(255), nullable=False),
        sa.Column("right", sa.Boolean(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("show_id", "round", "player", name="pk_show_answers"),
        sa.ForeignKeyConstraint(["show_id"], ["shows.id"], ondelete="CASCADE",
                                name="fk_show_answers_show_id_shows"),
        sa.CheckConstraint("points >= 0 AND seconds >= 0", name="ck_show_answers_values"),
    )


def downgrade() -> None:
    op.drop_table("show_answers")
    op.drop_table("show_rounds")
    op.drop_index("ix_shows_ended_at", table_name="shows")
    op.drop_table("shows")
