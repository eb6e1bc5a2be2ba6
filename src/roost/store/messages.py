"""Messages of a session, paged by keyset on ``(session_id, id)``, never by offset.

Callers hand in a session id they have already fetched through its owner.
"""

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from roost.store.models import Message
from roost.store.paging import cut

# A user message whose turn waits behind another: in history for its user to see, but
# not yet part of the conversation. Its turn gives it a new id, at the end, when it starts.
QUEUED = "queued"


def in_conversation() -> ColumnElement[bool]:
    """The messages a model may read: all but those still queued behind another turn."""
    return Message.status != QUEUED


class MessageRepo:
    def __init__(self, db: AsyncSession, session_id: str) -> None:
        self.db = db
        self.session_id = session_id

    async def exists(self, message_id: str) -> bool:
        query = select(Message.id).where(
            Message.id == message_id, Message.session_id == self.session_id
        )
        return (await self.db.execute(query)).first() is not None

    async def page(
        self, *, limit: int, before: str | None = None, after: str | None = None
    ) -> tuple[list[Message], bool]:
        """Up to ``limit`` messages, oldest first, and whether more lie beyond them.

        With ``after``: the oldest ones newer than it (more = newer ones remain).
        Otherwise the newest ones, older than ``before`` when given (more = older ones).
        """
        query = select(Message).where(Message.session_id == self.session_id)
        if after is not None:
            query = query.where(Message.id > after).order_by(Message.id.asc()).limit(limit + 1)
            return cut((await self.db.execute(query)).scalars().all(), limit)
        if before is not None:
            query = query.where(Message.id < before)
        query = query.order_by(Message.id.desc()).limit(limit + 1)
        newest, more = cut((await self.db.execute(query)).scalars().all(), limit)
        return newest[::-1], more

    def add(self, message: Message) -> None:
        message.session_id = self.session_id
        self.db.add(message)

    async def delete_all(self) -> None:
        await self.db.execute(delete(Message).where(Message.session_id == self.session_id))

    async def count(self) -> int:
        query = select(func.count()).where(Message.session_id == self.session_id)
        return int((await self.db.execute(query)).scalar_one())
