"""Create the schema: games and their rounds.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

POINTS_EXACT = 3  # frozen here: a revision never changes with the code
MAX_ROUNDS = 50


def upgrade() -> None:
    op.create_table(
        "games",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("initials", sa.String(3), nullable=True),
        sa.Column("human_points", sa.Integer(), nullable=False),
        sa.Column("ai_points", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_games"),
        sa.CheckConstraint("length(id) BETWEEN 1 AND 64", name="ck_games_id_length"),
        sa.CheckConstraint("mode IN ('expert', 'easy')", name="ck_games_mode"),
        sa.CheckConstraint("status IN ('finished', 'abandoned')", name="ck_games_status"),
        sa.CheckConstraint("length(language) = 2", name="ck_games_language"),
        sa.CheckConstraint(
            "initials IS NULL OR (length(initials) = 3 AND upper(initials) = initials"
            " AND substr(initials, 1, 1) BETWEEN 'A' AND 'Z'"
            " AND substr(initials, 2, 1) BETWEEN 'A' AND 'Z'"
            " AND substr(initials, 3, 1) BETWEEN 'A' AND 'Z')", name="ck_games_initials"),
        sa.CheckConstraint("human_points >= 0 AND ai_points >= 0", name="ck_games_points"),
        sa.CheckConstraint("ended_at >= started_at", name="ck_games_order"),
    )
    op.create_index("ix_games_ended_at", "games", ["ended_at"])
    op.create_table(
        "rounds",
        sa.Column("game_id", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("photo", sa.String(255), nullable=False),
        sa.Column("true_class", sa.String(255), nullable=False),
        sa.Column("guess", sa.String(255), nullable=True),
        sa.Column("ai_guess", sa.String(255), nullable=False),
        sa.Column("human_points", sa.Integer(), nullable=False),
        sa.Column("ai_points", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("game_id", "number", name="pk_rounds"),
        sa.ForeignKeyConstraint(["game_id"], ["games.id"], ondelete="CASCADE",
                                name="fk_rounds_game_id_games"),
        sa.CheckConstraint(f"number >= 0 AND number < {MAX_ROUNDS}", name="ck_rounds_number"),
        sa.CheckConstraint(f"human_points BETWEEN 0 AND {POINTS_EXACT}"
                           f" AND ai_points BETWEEN 0 AND {POINTS_EXACT}", name="ck_rounds_points"),
        sa.CheckConstraint("seconds IS NULL OR seconds >= 0", name="ck_rounds_seconds"),
        sa.CheckConstraint("length(photo) > 0 AND length(true_class) > 0"
                           " AND length(ai_guess) > 0", name="ck_rounds_names"),
    )
    op.create_index("ix_rounds_photo", "rounds", ["photo"])


def downgrade() -> None:
    op.drop_index("ix_rounds_photo", table_name="rounds")
    op.drop_table("rounds")
    op.drop_index("ix_games_ended_at", table_name="games")
    op.drop_table("games")
