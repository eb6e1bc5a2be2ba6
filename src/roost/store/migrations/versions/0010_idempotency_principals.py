"""idempotency principals

A kept answer is given again only to the credential that asked first, with the same
rights, so each key now records them. Answers kept from the auth routes (a new API key's
secret, tokens) are deleted: such answers are no longer kept. The others are kept for
their user's logins (the credential of nearly all retries), with the user's admin role.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM idempotency_keys WHERE path LIKE '%/auth/%'")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("principal", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("as_admin", sa.Boolean(), nullable=True))
    op.execute(
        "UPDATE idempotency_keys SET principal = 'user:' || owner_id, as_admin = "
        "(SELECT users.is_admin FROM users WHERE users.id = idempotency_keys.owner_id)"
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.alter_column("principal", existing_type=sa.String(length=80), nullable=False)
        batch_op.alter_column("as_admin", existing_type=sa.Boolean(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_column("as_admin")
        batch_op.drop_column("principal")
