"""Sessions: create, list, change, import, group and delete a caller's conversations."""

import posixpath
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from roost import ids
from roost.bus.notices import Notices
from roost.clock import utcnow
from roost.errors import SessionNotFound
from roost.services.agents import AgentService
from roost.services.caller import Caller
from roost.services.cursors import anchor, one_direction
from roost.services.messages import ImportedMessage, next_message_cursor
from roost.services.projects import ProjectService
from roost.store.db import Database
from roost.store.messages import MessageRepo
from roost.store.models import Message, Session
from roost.store.paging import Page
from roost.store.sessions import SessionFilter, SessionOrder, SessionRepo

DEFAULT_TITLE = "New Chat"

# What a client may set, on create and on change; everything else is the server's.
CREATE_FIELDS = frozenset(
    {"title", "agent", "model", "working_directory", "folder", "pinned", "archived", "metadata"}
    | {"project_id"}
)
CHANGE_FIELDS = frozenset(
    {"title", "custom_title", "agent", "model", "folder", "pinned", "archived", "metadata"}
    | {"project_id", "approved_tools"}
)

GROUPS = (
    ("today", "Today"),
    ("yesterday", "Yesterday"),
    ("last_7_days", "Last 7 days"),
    ("last_30_days", "Last 30 days"),
    ("older", "Older"),
)


@dataclass(frozen=True)
class SessionGroup:
    key: str
    label: str
    sessions: list[Session]


@dataclass(frozen=True)
class SessionWithMessages:
    session: Session
    messages: Page[Message]


class SessionService:
    def __init__(
        self,
        database: Database,
        before_delete: Callable[[Caller, str], Awaitable[None]] | None = None,
        projects: ProjectService | None = None,
        notices: Notices | None = None,
        agents: AgentService | None = None,
        history_replaced: Callable[[str], None] | None = None,
    ) -> None:
        self.database = database
        self.history_replaced = history_replaced  # the search index embeds the new history
        self.agents = agents  # checks the agent a session names
        self.before_delete = before_delete  # stops the session's turns first
        self.projects = projects
        self.notices = notices  # tells the user's live connections of each change

    def _tell(self, caller: Caller, change: str, session_id: str) -> None:
        if self.notices is not None:
            notice = {"channel": "sessions", "type": change, "session_id": session_id}
            self.notices.publish(caller.user_id, notice)
            if change != "updated":
                self.notices.publish(caller.user_id, {**notice, "channel": "hstry"})

    async def page(
        self,
        caller: Caller,
        where: SessionFilter,
        *,
        limit: int,
        before: str | None = None,
        after: str | None = None,
        order: SessionOrder = "listing",
    ) -> Page[Session]:
        """A page in list order; ``next_cursor`` is the ``after`` of the next page."""
        one_direction(before, after)
        async with self.database.read() as db:
            repo = SessionRepo(db, caller)
            anchors = {}
            for name, cursor in (("before", before), ("after", after)):
                if cursor is not None:
                    anchors[name] = await anchor(repo.find, name, cursor)
            items, more = await repo.page(
                where,
                limit=limit,
                order=order,
                before=anchors.get("before"),
                after=anchors.get("after"),
            )
        if before is not None:  # paging backwards: the way on is always open
            return Page(items, more, items[-1].id if items else None)
        return Page(items, more, items[-1].id if more and items else None)

    async def grouped(
        self, caller: Caller, zone: ZoneInfo, *, limit: int, after: str | None = None
    ) -> tuple[list[SessionGroup], Page[Session]]:
        """A page of sessions by last activity, grouped by day in the caller's time zone."""
        page = await self.page(caller, SessionFilter(), limit=limit, after=after, order="recent")
        return group_by_day(page.items, utcnow().astimezone(zone)), page

    async def create(
        self, caller: Caller, fields: dict[str, Any], *, kind: str = "chat"
    ) -> Session:
        """A new session; without ``project_id`` or ``working_directory`` it joins the
        caller's active project, if any (``project_id: null`` opts out). A ``kind`` other
        than "chat" (a run's) is left out of lists, and of the user's notices."""
        fields = _pick(fields, CREATE_FIELDS)
        if "project_id" not in fields and not fields.get("working_directory"):
            fields.update(await self._active_project(caller))
        fields = _stored(await self._bound(caller, fields))
        session = Session(id=ids.new_id("ses"), kind=kind, **fields)
        if session.title:
            session.custom_title = session.title
        else:
            session.title = DEFAULT_TITLE
        async with self.database.write() as db:
            SessionRepo(db, caller).add(session)
        if kind == "chat":
            self._tell(caller, "created", session.id)
        return session

    async def create_child(
        self, caller: Caller, parent_id: str | None, fields: dict[str, Any], *, by: str
    ) -> Session:
        """A session another one (``parent_id``, if any) delegated to, made by ``by``
        (the delegating turn, or "api")."""
        session = await self.create(caller, {**fields, "project_id": fields.get("project_id")})
        async with self.database.write() as db:
            made = await SessionRepo(db, caller).get(session.id)
            made.parent_id, made.delegated_by = parent_id, by
        session.parent_id, session.delegated_by = parent_id, by
        return session

    async def delegated_by_turn(self, caller: Caller, turn_id: str) -> list[Session]:
        async with self.database.read() as db:
            return await SessionRepo(db, caller).made_by(turn_id)

    async def children(self, caller: Caller, made_by: str) -> int:
        async with self.database.read() as db:
            return await SessionRepo(db, caller).delegated_by(made_by)

    async def delegated(
        self, caller: Caller, *, limit: int, before: str | None = None
    ) -> Page[Session]:
        async with self.database.read() as db:
            repo = SessionRepo(db, caller)
            if before is not None:
                await anchor(repo.find, "before", before)
            items, more = await repo.delegated(limit=limit, before=before)
        return Page(items, more, items[-1].id if more and items else None)

    async def get(self, caller: Caller, session_id: str) -> Session:
        async with self.database.read() as db:
            return await SessionRepo(db, caller).get(session_id)

    async def get_with_messages(
        self, caller: Caller, session_id: str, *, limit: int
    ) -> SessionWithMessages:
        """The session and its newest messages, oldest first."""
        async with self.database.read() as db:
            session = await SessionRepo(db, caller).get(session_id)
            items, more = await MessageRepo(db, session_id).page(limit=limit)
        return SessionWithMessages(
            session, Page(items, more, next_message_cursor(items, more, forward=False))
        )

    async def update(self, caller: Caller, session_id: str, changes: dict[str, Any]) -> Session:
        """Apply the fields the client sent; ``title`` is a user-chosen title."""
        changes = _stored(await self._bound(caller, _pick(changes, CHANGE_FIELDS)))
        async with self.database.write() as db:
            session = await SessionRepo(db, caller).get(session_id, for_update=True)
            _apply(session, changes)
        self._tell(caller, "updated", session.id)
        return session

    async def replace(
        self,
        caller: Caller,
        session_id: str,
        changes: dict[str, Any],
        messages: list[ImportedMessage] | None,
    ) -> Session:
        """Change the session and, when ``messages`` is given, replace its whole history."""
        changes = _stored(await self._bound(caller, _pick(changes, CHANGE_FIELDS)))
        async with self.database.write() as db:
            session = await SessionRepo(db, caller).get(session_id, for_update=True)
            _apply(session, changes)
            if messages is not None:
                repo = MessageRepo(db, session_id)
                await repo.delete_all()
                now = utcnow()
                for imported in messages:
                    repo.add(
                        Message(
                            id=ids.new_id("msg"),
                            role=imported.role,
                            content=imported.content,
                            parts=[{"type": "text", "text": imported.content}],
                            created_at=imported.created_at or now,
                        )
                    )
                session.message_count = len(messages)
                session.last_activity_at = now
        self._tell(caller, "updated", session.id)
        if messages is not None and self.history_replaced is not None:
            self.history_replaced(session.id)
        if messages is not None and self.notices is not None:
            notice = {"channel": "hstry", "type": "messages_changed", "session_id": session.id}
            self.notices.publish(caller.user_id, notice)
        return session

    async def _active_project(self, caller: Caller) -> dict[str, Any]:
        active = await self.projects.active_of(caller.user_id) if self.projects else None
        return {"project_id": active.id} if active is not None else {}

    async def _bound(self, caller: Caller, fields: dict[str, Any]) -> dict[str, Any]:
        """A project the caller owns (else PROJECT_NOT_FOUND) sets the working directory
        to its folder; ``project_id: null`` unbinds. An agent must be one of the caller's
        (else AGENT_NOT_FOUND)."""
        if fields.get("agent") and self.agents is not None:
            await self.agents.require(caller.user_id, fields["agent"])
        project_id = fields.get("project_id")
        if project_id is None or self.projects is None:
            return fields
        project = await self.projects.owned(caller.user_id, project_id)
        return {**fields, "project_id": project.id, "working_directory": project.path}

    async def delete(self, caller: Caller, session_id: str) -> None:
        """Stop the session's turns, then delete it; an id that is malformed, unknown or
        another user's is not found, by the repository (stopping reads it through it)."""
        if self.before_delete is not None:
            await self.before_delete(caller, session_id)
        async with self.database.write() as db:
            if not await SessionRepo(db, caller).delete(session_id):
                raise SessionNotFound(session_id)
        self._tell(caller, "deleted", session_id)

    async def set_status(self, caller: Caller, session_id: str, status: str) -> Session:
        async with self.database.write() as db:
            session = await SessionRepo(db, caller).get(session_id, for_update=True)
            if status != "idle" or session.status == "stopped":
                session.status = status
            session.updated_at = utcnow()
        self._tell(caller, "updated", session.id)
        return session

    async def touch(self, caller: Caller, session_id: str) -> Session:
        async with self.database.write() as db:
            session = await SessionRepo(db, caller).get(session_id, for_update=True)
            session.last_activity_at = utcnow()
        return session

    async def folders(self, caller: Caller, *, limit: int, after: str | None = None) -> Page[str]:
        async with self.database.read() as db:
            names, more = await SessionRepo(db, caller).folders(limit=limit, after=after)
        return Page(names, more, names[-1] if more and names else None)

    async def get_or_create(
        self, caller: Caller, working_directory: str, fields: dict[str, Any]
    ) -> tuple[Session, bool]:
        """The caller's session for a workspace, made once however many ask at once."""
        path = normalize_path(working_directory)
        values = _stored(_pick(fields, CREATE_FIELDS - {"working_directory"}))
        title = values.get("title")
        async with self.database.write() as db:
            repo = SessionRepo(db, caller)
            found = await repo.find_for_workspace(path)
            if found is not None:
                return found, False
            values.update(
                id=ids.new_id("ses"),
                title=title or DEFAULT_TITLE,
                custom_title=title,
                working_directory=path,
            )
            claimed, created = await repo.claim_workspace(values, path)
        if created:
            self._tell(caller, "created", claimed.id)
        return claimed, created


def normalize_path(path: str) -> str:
    """One spelling per folder: ``/a/b/``, ``/a//b`` and ``/a/./b`` are ``/a/b``."""
    return posixpath.normpath(path)


def group_by_day(sessions: list[Session], now: datetime) -> list[SessionGroup]:
    """Today, yesterday, the 7 and 30 days before, older: by local midnights in ``now``'s zone."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [
        today,
        today - timedelta(days=1),
        today - timedelta(days=7),
        today - timedelta(days=30),
    ]
    buckets: dict[str, list[Session]] = {key: [] for key, _ in GROUPS}
    for session in sessions:
        moment = session.last_activity_at.astimezone(now.tzinfo)
        index = next((i for i, start in enumerate(starts) if moment >= start), len(starts))
        buckets[GROUPS[index][0]].append(session)
    return [SessionGroup(key, label, buckets[key]) for key, label in GROUPS if buckets[key]]


def _pick(fields: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if key in allowed}


def _stored(fields: dict[str, Any]) -> dict[str, Any]:
    """Client field values as the table keeps them: no blank folder, ``metadata`` as ``meta``."""
    stored = dict(fields)
    if "folder" in stored and not stored["folder"]:
        stored["folder"] = None
    if "metadata" in stored:
        stored["meta"] = stored.pop("metadata")
    if stored.get("working_directory"):
        stored["working_directory"] = normalize_path(stored["working_directory"])
    return stored


def _apply(session: Session, changes: dict[str, Any]) -> None:
    if "title" in changes:
        session.title = changes["title"] or DEFAULT_TITLE
        session.custom_title = changes["title"] or None
    if "custom_title" in changes:
        session.custom_title = changes["custom_title"] or None
    if "meta" in changes:
        merged = dict(session.meta or {}) if changes["meta"] is not None else {}
        for key, value in (changes["meta"] or {}).items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        session.meta = merged
    if "approved_tools" in changes:
        session.approved_tools = list(dict.fromkeys(changes["approved_tools"] or []))
    if "project_id" in changes:
        if changes["project_id"] is None and session.project_id is not None:
            session.working_directory = None  # it was the project's folder
        session.project_id = changes["project_id"]
    for key in ("agent", "model", "folder", "pinned", "archived", "working_directory"):
        if key in changes:
            setattr(session, key, changes[key])
    session.updated_at = utcnow()
