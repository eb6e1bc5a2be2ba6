"""Naming a session after its first exchange, with one short model call (Coqui)."""

import logging

from roost.engine.providers.base import ChatMessage, ModelRequest, Provider, ProviderError
from roost.engine.providers.retry import complete
from roost.store.db import Database
from roost.store.messages import UncheckedMessages
from roost.store.models import Turn
from roost.store.sessions import UncheckedSessions

log = logging.getLogger("roost.titles")

TITLE_PROMPT = (
    "Write a title of at most six words for the conversation below. "
    "Answer with the title alone: no quotes, no punctuation at the end."
)
MAX_TITLE_LENGTH = 80
DEFAULT_TITLE = "New Chat"


async def generate_title(database: Database, provider: Provider, turn: Turn) -> str | None:
    """A title for the turn's session, stored unless the user has chosen one; None if not."""
    async with database.read() as db:
        session = await UncheckedSessions(db).get(turn.session_id)
        if session is None or session.custom_title or session.title not in (None, DEFAULT_TITLE):
            return None
        exchange = "\n\n".join(
            f"{m.role}: {m.content[:2000]}"
            for m in await UncheckedMessages(db).exchange(turn.id)
            if m.content
        )
    request = ModelRequest(
        model=(turn.model or "").partition("/")[2],
        messages=[ChatMessage("user", exchange or "(empty)")],
        system=TITLE_PROMPT,
        max_tokens=30,
    )
    try:
        text, _usage = await complete(provider, request)
    except ProviderError as failure:
        log.warning("title generation failed", extra={"turn_id": turn.id, "error": failure.message})
        return None
    title = clean_title(text)
    if not title:
        return None
    async with database.write() as db:
        session = await UncheckedSessions(db).get(turn.session_id)
        if session is None or session.custom_title:
            return None
        session.title = title
    return title


def clean_title(text: str) -> str:
    title = " ".join(text.split()).strip().strip("\"'`\u2018\u2019\u201c\u201d").rstrip(".!")
    return title[:MAX_TITLE_LENGTH].strip()
