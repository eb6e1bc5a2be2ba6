"""Reading a session's message history."""

from dataclasses import dataclass
from datetime import datetime

from roost.services.caller import Caller
from roost.services.cursors import anchor, one_direction
from roost.store.db import Database
from roost.store.messages import MessageRepo
from roost.store.models import Message
from roost.store.paging import Page
from roost.store.sessions import SessionRepo


@dataclass(frozen=True)
class ImportedMessage:
    """A message brought in whole, as Floyd's session PUT does."""

    role: str
    content: str
    created_at: datetime | None = None


class MessageService:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def page(
        self,
        caller: Caller,
        session_id: str,
        *,
        limit: int,
        before: str | None = None,
        after: str | None = None,
    ) -> Page[Message]:
        """A page of messages, oldest first; ``next_cursor`` continues in the same direction."""
        one_direction(before, after)
        async with self.database.read() as db:
            await SessionRepo(db, caller).get(session_id)
            repo = MessageRepo(db, session_id)
            for name, cursor in (("before", before), ("after", after)):
                if cursor is not None:
                    await anchor(repo.find, name, cursor)
            items, more = await repo.page(limit=limit, before=before, after=after)
        return Page(items, more, next_message_cursor(items, more, forward=after is not None))


def next_message_cursor(items: list[Message], more: bool, *, forward: bool) -> str | None:
    """Forward pages continue after their newest message, backward ones before their oldest."""
    if not more or not items:
        return None
    return items[-1].id if forward else items[0].id
