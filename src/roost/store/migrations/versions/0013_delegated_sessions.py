"""delegated sessions: the turn that delegated to a session

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delegated_by", sa.String(length=40), nullable=True))
        batch_op.create_index(
            "ix_sessions_owner_delegated", ["owner_id", "delegated_by", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_owner_delegated")
        batch_op.drop_column("delegated_by")
