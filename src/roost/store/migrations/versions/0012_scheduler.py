"""scheduled jobs and their runs

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.store.models

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduled_jobs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("schedule", sa.String(length=200), nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=100), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=True),
        sa.Column("project_id", sa.String(length=40), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("missed", sa.String(length=20), nullable=False),
        sa.Column("next_run_at", roost.store.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", roost.store.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=20), nullable=True),
        sa.Column("created_at", roost.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", roost.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_scheduled_jobs_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_scheduled_jobs_session_id_sessions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_jobs")),
    )
    with op.batch_alter_table("scheduled_jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scheduled_jobs_enabled_next_run_at", ["enabled", "next_run_at"], unique=False
        )
        batch_op.create_index("uq_scheduled_jobs_owner_name", ["owner_id", "name"], unique=True)
    op.create_table(
        "scheduled_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("scheduled_for", roost.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=True),
        sa.Column("turn_id", sa.String(length=40), nullable=True),
        sa.Column("error", roost.store.models.Json, nullable=True),
        sa.Column("started_at", roost.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", roost.store.models.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["scheduled_jobs.id"],
            name=op.f("fk_scheduled_runs_job_id_scheduled_jobs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_scheduled_runs_session_id_sessions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["turn_id"],
            ["turns.id"],
            name=op.f("fk_scheduled_runs_turn_id_turns"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_runs")),
    )
    with op.batch_alter_table("scheduled_runs", schema=None) as batch_op:
        batch_op.create_index("ix_scheduled_runs_job_id_id", ["job_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scheduled_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_scheduled_runs_job_id_id")
    op.drop_table("scheduled_runs")
    with op.batch_alter_table("scheduled_jobs", schema=None) as batch_op:
        batch_op.drop_index("uq_scheduled_jobs_owner_name")
        batch_op.drop_index("ix_scheduled_jobs_enabled_next_run_at")
    op.drop_table("scheduled_jobs")
