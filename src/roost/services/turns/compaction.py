"""Compaction: older history summarised into one message, so a long session keeps
fitting the model's context window; and forks, which copy history into a new session."""

from collections.abc import Sequence

from roost import ids
from roost.clock import utcnow
from roost.engine.providers.base import ChatMessage, ModelRequest, Provider
from roost.engine.providers.retry import complete
from roost.errors import InvalidRequest, MessageNotFound
from roost.services.turns.history import since_summary
from roost.store.db import Database, uninterrupted
from roost.store.messages import MessageRepo
from roost.store.models import Message, Session
from roost.store.sessions import SessionRepo, UncheckedSessions

SUMMARY_PROMPT = (
    "Summarise the conversation below for the assistant who will continue it: keep the "
    "user's goals, decisions, facts, names, numbers, open questions and the state of any "
    "work, in compact prose. Do not address the user."
)
MAX_SOURCE_CHARS = 200_000


async def compact(
    database: Database,
    provider: Provider,
    model: str,
    session_id: str,
    *,
    keep_last: int,
) -> tuple[Message, int] | None:
    """Summarise all but the newest ``keep_last`` messages (cut at a user message);
    return the summary message and how many messages it covers, or None if too few."""
    messages = await uninterrupted(_history(database, session_id))
    summary, rest = since_summary(messages)
    cut = _cut_point(rest, keep_last)
    if cut == 0:
        return None
    covered = rest[:cut]
    text = await _summarise(provider, model, summary, covered)
    message = Message(
        id=ids.new_id("msg"),
        session_id=session_id,
        role="system",
        content=text,
        parts=[{"type": "summary", "until": covered[-1].id, "messages": len(covered)}],
        status="completed",
    )
    await uninterrupted(_store_summary(database, message))
    return message, len(covered)


async def _history(database: Database, session_id: str) -> list[Message]:
    async with database.read() as db:
        return await MessageRepo(db, session_id).conversation()


async def _store_summary(database: Database, message: Message) -> None:
    async with database.write() as db:
        MessageRepo(db, message.session_id).add(message)
        session = await UncheckedSessions(db).get(message.session_id)
        if session is not None:
            session.message_count += 1
            session.updated_at = utcnow()


async def fork(
    database: Database, source: Session, owner_id: str, until: str | None, title: str | None
) -> Session:
    """A new session with the source's settings and its history up to ``until``."""
    async with database.write() as db:
        # A queued message stays with the turn that will send it, in the source.
        history = await MessageRepo(db, source.id).conversation()
        if until is not None:
            index = next((i for i, m in enumerate(history) if m.id == until), None)
            if index is None:
                raise MessageNotFound(until)
            history = history[: index + 1]
        now = utcnow()
        copy = Session(
            id=ids.new_id("ses"),
            owner_id=owner_id,
            kind=source.kind,  # a fork of a session kept out of lists stays out of them
            title=title or f"Fork of {source.custom_title or source.title or 'New Chat'}",
            custom_title=title,
            agent=source.agent,
            model=source.model,
            project_id=source.project_id,
            working_directory=source.working_directory,
            folder=source.folder,
            parent_id=source.id,
            meta=dict(source.meta or {}),
            message_count=len(history),
            created_at=now,
            updated_at=now,
            last_activity_at=now,
        )
        SessionRepo(db, owner_id).add(copy)
        await db.flush()
        renamed: dict[str, str] = {}
        messages = MessageRepo(db, copy.id)
        for message in history:
            renamed[message.id] = ids.new_id("msg")
            messages.add(
                Message(
                    id=renamed[message.id],
                    role=message.role,
                    content=message.content,
                    parts=_renamed_parts(message.parts or [], renamed),
                    status=message.status if message.status != "streaming" else "interrupted",
                    usage=message.usage,
                    created_at=message.created_at,
                )
            )
    return copy


def _cut_point(messages: Sequence[Message], keep_last: int) -> int:
    """Where the kept tail starts: ``keep_last`` from the end, moved back to a user message."""
    cut = max(0, len(messages) - keep_last)
    while 0 < cut < len(messages) and messages[cut].role != "user":
        cut -= 1
    return cut


async def _summarise(
    provider: Provider, model: str, summary: Message | None, covered: Sequence[Message]
) -> str:
    lines = [f"Earlier summary: {summary.content}"] if summary else []
    lines += [f"{m.role}: {m.content}" for m in covered if m.content]
    source = "\n\n".join(lines)[-MAX_SOURCE_CHARS:]
    request = ModelRequest(
        model=model, messages=[ChatMessage("user", source)], system=SUMMARY_PROMPT, max_tokens=1024
    )
    text, _usage = await complete(provider, request)
    if not text.strip():
        raise InvalidRequest("The model returned an empty summary")
    return text.strip()


def _renamed_parts(
    parts: list[dict[str, object]], renamed: dict[str, str]
) -> list[dict[str, object]]:
    """Summary parts point at a message id: point them at the copy."""
    result = []
    for part in parts:
        if part.get("type") == "summary" and part.get("until") in renamed:
            part = {**part, "until": renamed[str(part["until"])]}
        result.append(part)
    return result
