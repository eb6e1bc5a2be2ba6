"""Users: the owners of everything else."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from roost.store.db import insert_or_ignore
from roost.store.models import User

# The owner of everything in single-user mode: the zero id sorts before all others.
LOCAL_USER_ID = "usr_00000000000000000000000000"


async def ensure_local_user(db: AsyncSession) -> None:
    """Create the single-user mode owner once, even with replicas starting together."""
    await insert_or_ignore(
        db,
        User,
        {"id": LOCAL_USER_ID, "name": "local", "is_admin": True, "is_active": True},
        conflict=["id"],
    )


async def get_user(db: AsyncSession, user_id: str) -> User | None:
    return (await db.execute(select(User).where(User.id == user_id))).scalar_one_or_none()
