"""Sessions and tokens end: a session version per account and token, signed-out sessions

Disabling an account or changing its password or PIN moves ``session_version``; every session
cookie and API token minted under an older number is refused from then on. A signed-out
session's id goes into ``ended_sessions`` so its cookie is refused too.

Revision ID: 0006
Revises: 0008
Create Date: 2026-12-01 21:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0008"
branch_labels = None
depends_on = None


TABLES = ("users", "workers", "api_tokens")


def upgrade():
    # A plain ADD COLUMN, never a batch copy: on SQLite a copied workers table would break the
    # activity_seq triggers that name it (0004).
    for table in TABLES:
        op.add_column(table, sa.Column("session_version", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "ended_sessions",
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_ended_sessions")),
    )
    with op.batch_alter_table("ended_sessions") as batch:
        batch.create_index(batch.f("ix_ended_sessions_ended_at"), ["ended_at"], unique=False)


def downgrade():
    with op.batch_alter_table("ended_sessions") as batch:
        batch.drop_index(batch.f("ix_ended_sessions_ended_at"))
    op.drop_table("ended_sessions")
    for table in TABLES:
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN session_version")  # SQLite 3.35+, in place
        else:
            op.drop_column(table, "session_version")
