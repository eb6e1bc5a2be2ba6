"""Projects: a user's folders under a location, where their sessions' tools work; which
one is active; its workspace meta and sandbox policy; and what a turn gets from it."""

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from roost import ids
from roost.clock import utcnow
from roost.config import Settings
from roost.engine.tools.policy import SandboxPolicy
from roost.engine.tools.sandbox import Sandbox, SandboxError
from roost.errors import (
    InvalidRequest,
    NoActiveProject,
    PathInUse,
    PathNotEmpty,
    PayloadTooLarge,
    ProjectFolderUnavailable,
    SandboxLooseningForbidden,
)
from roost.services import project_context
from roost.services.caller import Caller
from roost.services.cursors import anchor, one_direction
from roost.services.locations import LocationService, make_folder, outside_locations
from roost.store.db import Database, uninterrupted
from roost.store.models import Project
from roost.store.paging import Page
from roost.store.projects import ProjectRepo, path_taken

MAX_META_BYTES = 64 * 1024

Populate = Callable[[Path], None]


@dataclass(frozen=True)
class TurnProject:
    """What a turn needs of its session's project: where tools work, under which policy,
    and the text its files and snippets add to the system prompt."""

    id: str
    root: str
    policy: SandboxPolicy
    context: str | None


class ProjectService:
    def __init__(self, database: Database, settings: Settings, locations: LocationService) -> None:
        self.database = database
        self.settings = settings
        self.locations = locations

    async def page(
        self, caller: Caller, *, limit: int, before: str | None = None, after: str | None = None
    ) -> tuple[Page[Project], str | None]:
        """A page of the caller's projects, oldest first, and the active project's id."""
        one_direction(before, after)
        async with self.database.read() as db:
            repo = ProjectRepo(db, caller)
            for name, cursor in (("before", before), ("after", after)):
                if cursor is not None:
                    await anchor(repo.find, name, cursor)
            items, more = await repo.page_by_id(limit=limit, before=before, after=after)
            active = await repo.active()
        if before is not None:
            page = Page(items, more, items[-1].id if items else None)
        else:
            page = Page(items, more, items[-1].id if more and items else None)
        return page, active.id if active else None

    async def create(
        self, caller: Caller, fields: dict[str, Any], *, populate: Populate | None = None
    ) -> Project:
        """A project at ``fields["path"]`` (see :meth:`LocationService.place`); the folder is
        used if it exists, made if not. ``populate`` fills a new or empty folder first."""
        placement = await self.locations.place(fields.get("path"), fields["name"])
        path = str(placement.path)
        async with self.database.read() as db:
            await _check_free(ProjectRepo(db, caller), path)
        _prepare_folder(placement.path, fields.get("path"), must_be_empty=populate is not None)
        if populate is not None:
            await asyncio.to_thread(populate, placement.path)
        project = Project(
            id=ids.new_id("proj"),
            location_id=placement.location.id,
            name=fields["name"],
            description=fields.get("description") or "",
            path=path,
            files=[],
            meta={},
            sandbox={},
            is_active=False,
        )
        async with self.database.write() as db:
            repo = ProjectRepo(db, caller)
            await _check_free(repo, path)
            await repo.insert(project)
        return project

    async def get(self, caller: Caller, project_id: str) -> Project:
        return await self.owned(caller.user_id, project_id)

    async def update(self, caller: Caller, project_id: str, changes: dict[str, Any]) -> Project:
        """Rename, describe, or point the project at another folder (never moved on disk)."""
        new_path = None
        if changes.get("path"):
            current = await self.owned(caller.user_id, project_id)
            placement = await self.locations.place(changes["path"], current.name)
            if str(placement.path) != current.path:  # refused before any folder is made
                async with self.database.read() as db:
                    await _check_free(ProjectRepo(db, caller), str(placement.path))
            _prepare_folder(placement.path, changes["path"], must_be_empty=False)
            new_path = placement
        async with self.database.write() as db:
            repo = ProjectRepo(db, caller)
            project = await repo.get(project_id, for_update=True)
            if new_path is not None and str(new_path.path) != project.path:
                await _check_free(repo, str(new_path.path))
                await repo.move(project, str(new_path.path), new_path.location.id)
            for key in ("name", "description"):
                if changes.get(key) is not None:
                    setattr(project, key, changes[key])
            project.updated_at = utcnow()
        return project

    async def delete(self, caller: Caller, project_id: str) -> None:
        """Forget the project (its folder stays); its sessions lose their project."""
        async with self.database.write() as db:
            repo = ProjectRepo(db, caller)
            project = await repo.get(project_id, for_update=True)
            await repo.bind_sessions(project.id, None)
            await repo.remove(project)

    async def activate(self, caller: Caller, project_id: str) -> Project:
        async with self.database.write() as db:
            repo = ProjectRepo(db, caller)
            await repo.lock_owner()
            project = await repo.get(project_id, for_update=True)
            await repo.deactivate_all()
            project.is_active = True
        return project

    async def deactivate(self, caller: Caller) -> None:
        async with self.database.write() as db:
            repo = ProjectRepo(db, caller)
            await repo.lock_owner()
            await repo.deactivate_all()

    async def active(self, caller: Caller) -> Project | None:
        return await self.active_of(caller.user_id)

    async def owned(self, owner_id: str, project_id: str) -> Project:
        async with self.database.read() as db:
            return await ProjectRepo(db, owner_id).get(project_id)

    async def active_of(self, owner_id: str) -> Project | None:
        async with self.database.read() as db:
            return await ProjectRepo(db, owner_id).active()

    async def for_turn(self, owner_id: str, project_id: str | None) -> TurnProject | None:
        """The session's project for a turn, its files read now; None when it has none (or
        it was deleted). A folder gone or moved out of every location is a 409."""
        if project_id is None or not ids.is_valid("proj", project_id):
            return None
        project = await uninterrupted(self._find(owner_id, project_id))
        if project is None:
            return None
        sandbox = await uninterrupted(self._sandbox(project))
        context = await asyncio.to_thread(project_context.render, sandbox, list(project.files))
        return TurnProject(project.id, str(sandbox.root), sandbox.policy, context)

    async def sandbox_for(self, owner_id: str, project_id: str) -> Sandbox:
        """The project's folder as a boundary, under its effective policy."""
        return await self._sandbox(await self.owned(owner_id, project_id))

    def policy(self, project: Project) -> SandboxPolicy:
        """The policy the project's owner (or an admin) set."""
        return SandboxPolicy.from_json(project.sandbox)

    def effective_policy(self, project: Project) -> SandboxPolicy:
        """The project's policy, narrowed by what the server allows at all."""
        policy = self.policy(project)
        return dataclasses.replace(
            policy,
            allow_commands=policy.allow_commands and self.settings.run_command_enabled,
            allow_network=policy.allow_network and self.settings.fetch_url_enabled,
        )

    async def workspace(self, caller: Caller, project_id: str | None) -> Project:
        """The project named, else the caller's active one (Oqto's current workspace)."""
        if project_id:
            return await self.owned(caller.user_id, project_id)
        active = await self.active_of(caller.user_id)
        if active is None:
            raise NoActiveProject()
        return active

    async def change_meta(self, caller: Caller, project_id: str, patch: dict[str, Any]) -> Project:
        """Merge ``patch`` into the meta: keys set, a key set to null removed."""
        async with self.database.write() as db:
            project = await ProjectRepo(db, caller).get(project_id, for_update=True)
            merged = dict(project.meta or {})
            for key, value in patch.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            if len(orjson.dumps(merged)) > MAX_META_BYTES:
                raise PayloadTooLarge(
                    f"A project's meta is at most {MAX_META_BYTES // 1024} KiB as JSON",
                    details={"max_bytes": MAX_META_BYTES},
                )
            project.meta = merged
            project.updated_at = utcnow()
        return project

    async def change_sandbox(
        self, caller: Caller, project_id: str, changes: dict[str, Any]
    ) -> Project:
        """Apply policy changes; anyone but an admin may only add restrictions."""
        async with self.database.write() as db:
            project = await ProjectRepo(db, caller).get(project_id, for_update=True)
            current = self.policy(project)
            if "denied_paths" in changes:
                changes = {**changes, "denied_paths": tuple(dict.fromkeys(changes["denied_paths"]))}
            wanted = dataclasses.replace(current, **changes)
            loosened = current.loosened_by(wanted)
            if loosened and not may_loosen(caller):
                raise SandboxLooseningForbidden(loosened, project.id)
            project.sandbox = wanted.as_json()
            project.updated_at = utcnow()
        return project

    async def add_entry(self, caller: Caller, project_id: str, fields: dict[str, Any]) -> Project:
        """Add a file reference (``path``) or a snippet (``name``, ``content``)."""
        sandbox = None
        if fields["type"] == "file":
            sandbox = await self.sandbox_for(caller.user_id, project_id)
        async with self.database.write() as db:
            project = await ProjectRepo(db, caller).get(project_id, for_update=True)
            entries = list(project.files or [])
            if sandbox is not None:
                entry = project_context.file_entry(sandbox, fields["path"], entries)
            else:
                entry = project_context.snippet_entry(fields["name"], fields["content"], entries)
            project.files = [*entries, entry]
            project.updated_at = utcnow()
        return project

    async def remove_entry(
        self,
        caller: Caller,
        project_id: str,
        *,
        path: str | None = None,
        name: str | None = None,
        entry_id: str | None = None,
    ) -> Project:
        async with self.database.write() as db:
            project = await ProjectRepo(db, caller).get(project_id, for_update=True)
            if not (path or name or entry_id):
                raise InvalidRequest("Give the path, name or id of the entry to remove")
            project.files = project_context.without_entry(
                list(project.files or []), project.path, path=path, name=name, entry_id=entry_id
            )
            project.updated_at = utcnow()
        return project

    async def _find(self, owner_id: str, project_id: str) -> Project | None:
        async with self.database.read() as db:
            return await ProjectRepo(db, owner_id).find(project_id)

    async def _sandbox(self, project: Project) -> Sandbox:
        """Checked each time: a folder deleted, or swapped for a link out of every location,
        must not become a tool's root."""
        location = await self.locations.check_inside(project.path)
        try:
            if location is None:
                raise SandboxError("outside every location")
            return Sandbox(project.path, self.effective_policy(project))
        except SandboxError as error:
            raise ProjectFolderUnavailable(project.id, project.path) from error


def may_loosen(caller: Caller) -> bool:
    """An admin, unless acting through an API key without the admin scope."""
    return caller.is_admin and (caller.scopes is None or "admin" in caller.scopes)


async def _check_free(repo: ProjectRepo, path: str) -> None:
    if await repo.by_path(path) is not None:
        raise path_taken(path)
    if await repo.claimed_by_another(path):
        raise PathInUse(path)


def _prepare_folder(path: Path, given: str | None, *, must_be_empty: bool) -> None:
    """Make the folder; refuse it if it resolves elsewhere once made (a link swapped in)."""
    if make_folder(path) != path:
        raise outside_locations(given or str(path), [])
    if must_be_empty and any(path.iterdir()):
        raise PathNotEmpty(str(path))
