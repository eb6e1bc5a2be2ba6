"""A session's message history (Coqui's paged messages)."""

from fastapi import APIRouter

from roost.api.deps import After, Before, Caller, Limit, Services
from roost.api.schemas.sessions import MessageListOut, MessageOut

router = APIRouter(tags=["messages"])


@router.get("/sessions/{session_id}/messages", response_model=MessageListOut)
async def list_messages(
    caller: Caller,
    services: Services,
    session_id: str,
    limit: Limit = 50,
    before: Before = None,
    after: After = None,
) -> MessageListOut:
    """Oldest first. Without a cursor, the newest page; ``before`` pages back, ``after``
    forward, and ``next_cursor`` continues in the same direction."""
    page = await services.messages.page(caller, session_id, limit=limit, before=before, after=after)
    return MessageListOut(
        data=[MessageOut.of(m) for m in page.items],
        has_more=page.has_more,
        next_cursor=page.next_cursor,
    )
