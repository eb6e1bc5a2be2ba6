"""explicit key scopes

An API key stored with no scopes meant "everything its user may do"; an empty list now
means none, so those keys are given all three scopes, which keeps what they may do (the
admin scope acts only while the user is an admin).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.store.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALL = ["admin", "read", "write"]
api_keys = sa.table(
    "api_keys", sa.column("id", sa.String), sa.column("scopes", roost.store.models.Json)
)


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(api_keys.c.id, api_keys.c.scopes)).all()
    for key_id in [key_id for key_id, scopes in rows if not scopes]:
        connection.execute(sa.update(api_keys).where(api_keys.c.id == key_id).values(scopes=ALL))


def downgrade() -> None:
    """Keys keep their explicit scopes: they mean the same to the older code."""
