"""A task's artifacts: ``plan.json`` (its plan), ``diff.patch`` (its changes to its
project: kept when it ended, taken live while it runs), ``log.txt`` (its run, as text)
and the files the agent kept with ``add_artifact``."""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson

from roost.clock import utcnow
from roost.errors import ArtifactNotFound
from roost.services.caller import Caller
from roost.services.tasks.owner import PATCH_TYPE, TaskOwner
from roost.services.tasks.service import TaskService
from roost.store.db import Database
from roost.store.models import Task, TaskArtifact
from roost.store.tasks import ArtifactRepo
from roost.store.turns import EventRepo

OWN = ("plan.json", "diff.patch", "log.txt")  # made by Roost, in this order
MAX_LOG_EVENTS = 100_000
MAX_LOGGED_VALUE = 2_000


@dataclass(frozen=True)
class Artifact:
    id: str
    name: str
    type: str
    media_type: str
    size: int
    created_at: datetime
    content: bytes | None = None  # left out of listings


class TaskArtifacts:
    def __init__(self, database: Database, tasks: TaskService, owner: TaskOwner) -> None:
        self.database = database
        self.tasks = tasks
        self.owner = owner

    async def listed(self, caller: Caller, task_id: str) -> list[Artifact]:
        """Every artifact of the task, without content: its own (``OWN``, in that order;
        kept when it ended, else made now), then the files the agent kept."""
        await self.tasks.get(caller, task_id)  # the caller's task, else 404
        async with self.database.read() as db:
            kept = {row.name: _of(row) for row in await ArtifactRepo(db, task_id).listed()}
        made = {
            artifact.name: _without_content(artifact)
            for artifact in await self._made(caller, task_id, [n for n in OWN if n not in kept])
        }
        own = [kept.get(name) or made.get(name) for name in OWN]
        files = [artifact for name, artifact in kept.items() if name not in OWN]
        return [artifact for artifact in own if artifact is not None] + files

    async def get(self, caller: Caller, task_id: str, ref: str) -> Artifact:
        """An artifact with its content, by id or by name."""
        await self.tasks.get(caller, task_id)  # the caller's task, else 404
        async with self.database.read() as db:
            row = await ArtifactRepo(db, task_id).find(ref)
            if row is not None:
                return _of(row, content=row.content)
        made = await self._made(caller, task_id, [ref]) if ref in OWN else []
        if not made:
            raise ArtifactNotFound(task_id, ref)
        return made[0]

    async def _made(self, caller: Caller, task_id: str, names: list[str]) -> list[Artifact]:
        """Those of ``names`` made from the task's state (its plan, diff and log) that it
        has: a plan once one was written, a diff and a log once it started."""
        shown = await self.tasks.get(caller, task_id)
        task, now = shown.task, utcnow()
        made = []
        if "plan.json" in names and shown.plan:
            made.append(_made("plan.json", "plan", "application/json", _json(shown.plan), now))
        if "diff.patch" in names and task.project_id is not None and task.started_at:
            patch = await self.owner.current_diff(task)
            made.append(_made("diff.patch", "diff", PATCH_TYPE, patch, now))
        if "log.txt" in names and task.started_at is not None:
            log = await self._log(task)
            made.append(_made("log.txt", "log", "text/plain; charset=utf-8", log, now))
        return made

    async def _log(self, task: Task) -> bytes:
        """The task's current run, event by event, as text."""
        if task.turn_id is None:
            return b""
        lines: list[str] = []
        seq = 0
        async with self.database.read() as db:
            events = EventRepo(db)
            while len(lines) < MAX_LOG_EVENTS:
                page = await events.after(task.turn_id, seq)
                if not page:
                    break
                lines += [_line(row.type, row.data, row.ts) for row in page]
                seq = page[-1].seq
        return "".join(line for line in lines if line).encode()


def _line(kind: str, data: dict[str, Any], ts: datetime) -> str:
    """One event as a log line; the answer's text runs on without timestamps."""
    if kind in ("text", "thinking"):
        return str(data.get("content", ""))
    stamp = ts.strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind == "tool_call":
        detail = f"{data.get('tool')} {_short(data.get('args'))}"
    elif kind == "tool_result":
        outcome = "ok" if data.get("success") else f"error: {data.get('error')}"
        detail = f"{data.get('tool')} {outcome} {_short(data.get('result'))}"
    elif kind == "plan_update":
        steps = (data.get("plan") or {}).get("steps") or []
        detail = "; ".join(f"[{s.get('status')}] {s.get('description')}" for s in steps)
    else:
        detail = _short({k: v for k, v in data.items() if k != "type"})
    return f"\n[{stamp}] {kind}: {detail}\n"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    return text if len(text) <= MAX_LOGGED_VALUE else text[:MAX_LOGGED_VALUE] + "…"


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"


def _made(name: str, kind: str, media_type: str, content: bytes, at: datetime) -> Artifact:
    return Artifact(name, name, kind, media_type, len(content), at, content)


def _without_content(artifact: Artifact) -> Artifact:
    return replace(artifact, content=None)


def _of(row: TaskArtifact, content: bytes | None = None) -> Artifact:
    return Artifact(row.id, row.name, row.type, row.media_type, row.size, row.created_at, content)
