"""Agents (CoAgent's, Coqui's roles): named, versioned configurations.

A user has agents of their own and may use the server's: the agents of roost.toml,
seeded at start-up, which only admins change. Every change makes a new version; a turn
records the version it runs (:meth:`AgentService.resolve` in the turn's start
transaction) and reads it back by :meth:`AgentService.definition`, which never changes
once written and so is cached for good.
"""

import logging
from dataclasses import replace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.clock import utcnow
from roost.config import Settings
from roost.domain.agents import DEFAULT_AGENT_NAME, FIELDS, AgentDefinition
from roost.errors import (
    AgentNotFound,
    AgentVersionNotFound,
    AlreadyExists,
    ApiError,
    Forbidden,
)
from roost.services.caller import Caller
from roost.store.agents import AgentRepo, shared_agents, version_of
from roost.store.db import Database, flush_unique
from roost.store.models import Agent, AgentVersion
from roost.store.paging import Page

log = logging.getLogger(__name__)


def definition_of(agent: Agent) -> AgentDefinition:
    return AgentDefinition.from_dict({field: getattr(agent, field) for field in FIELDS})


class AgentService:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self._versions: dict[tuple[str, int], AgentDefinition] = {}

    async def seed(self) -> int:
        """At start-up: the agents of roost.toml become (or update) the server's agents.
        A definition the file changed since it was last applied is a new version; an
        admin's edit through the API stands until the file's definition changes.
        Returns how many versions were written."""
        written = 0
        for name, settings in self.settings.all_agents.items():
            wanted = AgentDefinition.from_settings(name, settings)
            digest = wanted.digest()
            try:
                async with self.database.write() as db:
                    current = {agent.name: agent for agent in await shared_agents(db)}.get(name)
                    if current is None:
                        agent = Agent(id=ids.new_id("agent"), owner_id=None, version=0)
                        db.add(agent)
                    elif current.config_digest == digest:
                        continue
                    else:
                        agent = current
                    _apply(agent, wanted)
                    agent.config_digest = digest
                    _new_version(db, agent)
                    written += 1
            except IntegrityError:  # another process seeded it at the same moment
                log.info("agent %s was seeded by another process", name)
        return written

    async def page(self, caller: Caller, *, limit: int, after: str | None) -> Page[Agent]:
        async with self.database.read() as db:
            items, more = await AgentRepo(db, caller.user_id).listed(limit=limit, after=after)
        return Page(items, more, items[-1].id if more and items else None)

    async def get(self, caller: Caller, ref: str) -> Agent:
        async with self.database.read() as db:
            return await _found(AgentRepo(db, caller.user_id), ref)

    async def create(self, caller: Caller, fields: dict[str, Any], *, shared: bool) -> Agent:
        """A new agent at version 1; ``shared``: the server's (admins only)."""
        if shared and not caller.acts_as_admin:
            raise Forbidden("Only an admin may make a server agent")
        wanted = AgentDefinition.from_dict(fields)
        taken = _taken(wanted.name)
        async with self.database.write() as db:
            repo = AgentRepo(db, caller.user_id)
            if await repo.taken(wanted.name, shared=shared):
                raise taken
            agent = Agent(
                id=ids.new_id("agent"), owner_id=None if shared else caller.user_id, version=0
            )
            _apply(agent, wanted)
            db.add(agent)
            await flush_unique(db, taken)
            _new_version(db, agent)
        return agent

    async def update(
        self, caller: Caller, ref: str, changes: dict[str, Any], *, replacing: bool
    ) -> Agent:
        """Change an agent: PUT (``replacing``) sets every field, unnamed ones to their
        defaults; PATCH only those named. A change is a new version; none, none."""
        async with self.database.write() as db:
            repo = AgentRepo(db, caller.user_id)
            agent = await _found(repo, ref, for_update=True)
            _may_change(caller, agent)
            current = definition_of(agent)
            base = AgentDefinition(name=current.name) if replacing else current
            wanted = replace(base, **_definition_fields(changes))
            if wanted == current:
                return agent
            if wanted.name != current.name and await repo.taken(
                wanted.name, shared=agent.owner_id is None, besides=agent.id
            ):
                raise _taken(wanted.name)
            _apply(agent, wanted)
            await flush_unique(db, _taken(wanted.name))
            _new_version(db, agent)
        return agent

    async def delete(self, caller: Caller, ref: str) -> None:
        """An agent and its versions; turns and runs keep its name and version number."""
        async with self.database.write() as db:
            agent = await _found(AgentRepo(db, caller.user_id), ref, for_update=True)
            _may_change(caller, agent)
            await db.delete(agent)

    async def versions(
        self, caller: Caller, ref: str, *, limit: int, before: int | None
    ) -> tuple[Agent, list[AgentVersion], bool]:
        async with self.database.read() as db:
            repo = AgentRepo(db, caller.user_id)
            agent = await _found(repo, ref)
            items, more = await repo.versions(agent.id, limit=limit, before=before)
        return agent, list(items), more

    async def version(self, caller: Caller, ref: str, number: int) -> tuple[Agent, AgentVersion]:
        async with self.database.read() as db:
            agent = await _found(AgentRepo(db, caller.user_id), ref)
            found = await version_of(db, agent.id, number)
        if found is None:
            raise AgentVersionNotFound(agent.id, number)
        return agent, found

    async def resolve(self, db: AsyncSession, owner_id: str, name: str | None) -> Agent:
        """The agent a turn of ``owner_id``'s runs, in the caller's transaction."""
        repo = AgentRepo(db, owner_id)
        found = await repo.find(name or DEFAULT_AGENT_NAME)
        if found is None:
            raise AgentNotFound(name or DEFAULT_AGENT_NAME, await repo.names())
        if (found.id, found.version) not in self._versions:
            self._versions[(found.id, found.version)] = definition_of(found)
        return found

    async def require(self, owner_id: str, name: str | None) -> None:
        """Refuse, with AGENT_NOT_FOUND, a name that is none of the user's agents."""
        if name is None:
            return
        async with self.database.read() as db:
            await self.resolve(db, owner_id, name)

    async def definition(
        self, agent_id: str | None, version: int | None, name: str
    ) -> AgentDefinition:
        """The definition a turn recorded; for a turn from before agents were versioned
        (no id), roost.toml's agent of its name, else the default one."""
        if agent_id is None or version is None:
            settings = self.settings.all_agents
            chosen = settings.get(name) or settings[DEFAULT_AGENT_NAME]
            return AgentDefinition.from_settings(name, chosen)
        cached = self._versions.get((agent_id, version))
        if cached is not None:
            return cached
        async with self.database.read() as db:
            found = await version_of(db, agent_id, version)
        if found is None:  # the agent was deleted after the turn started
            raise AgentNotFound(name, [])
        definition = AgentDefinition.from_dict(found.definition)
        self._versions[(agent_id, version)] = definition
        return definition


def _definition_fields(changes: dict[str, Any]) -> dict[str, Any]:
    fields = {key: changes[key] for key in FIELDS if key in changes}
    for key in ("tools", "skills"):
        if fields.get(key) is not None:
            fields[key] = tuple(fields[key])
    if "skills" in fields and fields["skills"] is None:
        fields["skills"] = ()
    return fields


def _apply(agent: Agent, definition: AgentDefinition) -> None:
    data = definition.as_dict()
    for field in FIELDS:
        setattr(agent, field, data[field])
    agent.updated_at = utcnow()


def _new_version(db: AsyncSession, agent: Agent) -> None:
    agent.version = (agent.version or 0) + 1
    db.add(
        AgentVersion(
            agent_id=agent.id, version=agent.version, definition=definition_of(agent).as_dict()
        )
    )


def _may_change(caller: Caller, agent: Agent) -> None:
    if agent.owner_id is None and not caller.acts_as_admin:
        raise Forbidden(
            f"Agent {agent.name} is the server's: only an admin may change it",
            details={"agent_id": agent.id},
        )


async def _found(repo: AgentRepo, ref: str, *, for_update: bool = False) -> Agent:
    agent = await repo.find(ref, for_update=for_update)
    if agent is None:
        raise AgentNotFound(ref, await repo.names())
    return agent


def _taken(name: str) -> ApiError:
    return AlreadyExists(f"An agent named {name} exists", details={"field": "name", "name": name})
