"""agents, runs and evaluations

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.store.models

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner_id", sa.String(length=40), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("preamble", sa.Text(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("tools", roost.store.models.Json, nullable=True),
        sa.Column("skills", roost.store.models.Json, nullable=False),
        sa.Column("max_iterations", sa.Integer(), nullable=True),
        sa.Column("requires_approval", sa.Boolean(), nullable=False),
        sa.Column("temperature", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("config_digest", sa.String(length=64), nullable=True),
        sa.Column("created_at", roost.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", roost.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_agents_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
    )
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.create_index("uq_agents_owner_name", ["owner_id", "name"], unique=True)
        batch_op.create_index(
            "uq_agents_shared_name",
            ["name"],
            unique=True,
            sqlite_where=sa.text("owner_id IS NULL"),
            postgresql_where=sa.text("owner_id IS NULL"),
        )

    op.create_table(
        "testsets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("case_count", sa.Integer(), nullable=False),
        sa.Column("created_at", roost.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", roost.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_testsets_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_testsets")),
    )
    with op.batch_alter_table("testsets", schema=None) as batch_op:
        batch_op.create_index("uq_testsets_owner_name", ["owner_id", "name"], unique=True)

    op.create_table(
        "agent_versions",
        sa.Column("agent_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", roost.store.models.Json, nullable=False),
        sa.Column("created_at", roost.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_versions_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", "version", name=op.f("pk_agent_versions")),
    )
    op.create_table(
        "eval_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner_id", sa.String(length=40), nullable=False),
        sa.Column("testset_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("configurations", roost.store.models.Json, nullable=False),
        sa.Column("cases", roost.store.models.Json, nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("summary", roost.store.models.Json, nullable=True),
        sa.Column("error", roost.store.models.Json, nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("created_at", roost.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("started_at", roost.store.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", roost.store.models.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_eval_runs_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["testset_id"],
            ["testsets.id"],
            name=op.f("fk_eval_runs_testset_id_testsets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_runs")),
    )
    with op.batch_alter_table("eval_runs", schema=None) as batch_op:
        batch_op.create_index("ix_eval_runs_owner_id_id", ["owner_id", "id"], unique=False)
        batch_op.create_index("ix_eval_runs_testset_id_id", ["testset_id", "id"], unique=False)

    op.create_table(
        "testset_cases",
        sa.Column("testset_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("input", sa.Text(), nullable=False),
        sa.Column("expected", sa.Text(), nullable=True),
        sa.Column("assertions", roost.store.models.Json, nullable=False),
        sa.Column("created_at", roost.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", roost.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["testset_id"],
            ["testsets.id"],
            name=op.f("fk_testset_cases_testset_id_testsets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("testset_id", "id", name=op.f("pk_testset_cases")),
    )
    with op.batch_alter_table("testset_cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_testset_cases_testset_id_position", ["testset_id", "position"], unique=False
        )

    op.create_table(
        "eval_results",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("eval_run_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=100), nullable=False),
        sa.Column("configuration", sa.String(length=100), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=True),
        sa.Column("agent_version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("verdicts", roost.store.models.Json, nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("error", roost.store.models.Json, nullable=True),
        sa.Column("created_at", roost.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["eval_run_id"],
            ["eval_runs.id"],
            name=op.f("fk_eval_results_eval_run_id_eval_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_results")),
    )
    with op.batch_alter_table("eval_results", schema=None) as batch_op:
        batch_op.create_index(
            "uq_eval_results_eval_run_id_seq", ["eval_run_id", "seq"], unique=True
        )
        batch_op.create_index(
            "uq_eval_results_unit",
            ["eval_run_id", "case_id", "configuration", "repeat"],
            unique=True,
        )

    op.create_table(
        "runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner_id", sa.String(length=40), nullable=False),
        sa.Column("run_id", sa.String(length=200), nullable=False),
        sa.Column("agent_id", sa.String(length=40), nullable=True),
        sa.Column("agent", sa.String(length=100), nullable=True),
        sa.Column("agent_version", sa.Integer(), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("preamble", sa.Text(), nullable=False),
        sa.Column("temperature", sa.Float(), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("log_meta", roost.store.models.Json, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("error", roost.store.models.Json, nullable=True),
        sa.Column("tool_calls", roost.store.models.Json, nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.String(length=40), nullable=True),
        sa.Column("turn_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", roost.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", roost.store.models.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_runs_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_runs_session_id_sessions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["turn_id"], ["turns.id"], name=op.f("fk_runs_turn_id_turns"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index("ix_runs_owner_id_id", ["owner_id", "id"], unique=False)
        batch_op.create_index("uq_runs_owner_run_id", ["owner_id", "run_id"], unique=True)

    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="chat", nullable=False)
        )

    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agent_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("agent_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.drop_column("agent_version")
        batch_op.drop_column("agent_id")

    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("kind")

    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("uq_runs_owner_run_id")
        batch_op.drop_index("ix_runs_owner_id_id")

    op.drop_table("runs")
    with op.batch_alter_table("eval_results", schema=None) as batch_op:
        batch_op.drop_index("uq_eval_results_unit")
        batch_op.drop_index("uq_eval_results_eval_run_id_seq")

    op.drop_table("eval_results")
    with op.batch_alter_table("testset_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_testset_cases_testset_id_position")

    op.drop_table("testset_cases")
    with op.batch_alter_table("eval_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_eval_runs_testset_id_id")
        batch_op.drop_index("ix_eval_runs_owner_id_id")

    op.drop_table("eval_runs")
    op.drop_table("agent_versions")
    with op.batch_alter_table("testsets", schema=None) as batch_op:
        batch_op.drop_index("uq_testsets_owner_name")

    op.drop_table("testsets")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_agents_shared_name",
            sqlite_where=sa.text("owner_id IS NULL"),
            postgresql_where=sa.text("owner_id IS NULL"),
        )
        batch_op.drop_index("uq_agents_owner_name")

    op.drop_table("agents")
