"""MCP servers (API.md §10): admins configure them; their tools join every turn's.

A server's ``env`` and ``headers`` are secrets: sealed at rest with the secret box, and
shown only as previews. Each replica runs its own connections, and reads the list of
servers again every few seconds, so a change made on another replica reaches it.
"""

import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson

from roost import ids
from roost.clock import utcnow
from roost.config import Settings
from roost.crypto import SecretBox, preview
from roost.engine.tools.mcp import McpServerConfig, McpStatus
from roost.engine.tools.mcp_source import McpServers
from roost.errors import InvalidRequest, McpServerExists
from roost.services.caller import Caller
from roost.services.cursors import anchor
from roost.store.db import Database, uninterrupted
from roost.store.mcp import McpServerRepo
from roost.store.models import McpServer
from roost.store.paging import Page

log = logging.getLogger("roost.mcp")

CONFIGS_TTL_SECONDS = 5.0  # another replica sees a change within this
MAX_SERVERS = 200
PLAIN_FIELDS = ("name", "transport", "enabled", "requires_approval")
TRANSPORT_FIELDS = {"stdio": ("command", "args", "env"), "http": ("url", "headers")}


@dataclass(frozen=True)
class McpServerView:
    """A server as clients see it: secrets as previews, and how it runs here."""

    server: McpServer
    env: dict[str, str]
    headers: dict[str, str]
    status: McpStatus


MCP_START_SECONDS = 10.0


class McpServerService:
    def __init__(self, database: Database, box: SecretBox, settings: Settings) -> None:
        self.database = database
        self.box = box
        self.servers = McpServers(
            self.enabled_configs,
            timeout=settings.tool_timeout_seconds,
            output_cap=settings.tool_output_cap_bytes,
            log_dir=settings.home / "mcp",
            # A process that starts, imports and lists its tools may need longer than
            # one call is allowed (npx, a cold interpreter on a busy machine).
            start_timeout=max(settings.tool_timeout_seconds, MCP_START_SECONDS),
        )
        self._configs: tuple[float, list[McpServerConfig]] | None = None

    async def page(self, *, limit: int, after: str | None) -> Page[McpServerView]:
        """Oldest first."""
        async with self.database.read() as db:
            repo = McpServerRepo(db)
            if after is not None:
                await anchor(repo.find, "after", after)
            items, more = await repo.page(limit=limit, after=after)
        return Page([self._view(s) for s in items], more, items[-1].id if more and items else None)

    async def get(self, server_id: str) -> McpServerView:
        async with self.database.read() as db:
            return self._view(await McpServerRepo(db).get(server_id))

    async def create(self, caller: Caller, fields: dict[str, Any]) -> McpServerView:
        server = McpServer(
            id=ids.new_id("mcp"),
            created_by=caller.user_id or None,
            args=[],
            enabled=True,
            requires_approval=False,
        )
        self._apply(server, fields)
        async with self.database.write() as db:
            repo = McpServerRepo(db)
            if await repo.name_taken(server.name):
                raise McpServerExists(server.name)
            if await repo.count_reaches(MAX_SERVERS):
                raise InvalidRequest(f"At most {MAX_SERVERS} MCP servers can be configured")
            await repo.add(server)
        self._configs = None
        return self._view(server)

    async def update(self, server_id: str, changes: dict[str, Any]) -> McpServerView:
        """Apply the fields sent (a merge patch: ``env`` and ``headers`` keys sent as
        null are removed); a change to how the server is reached restarts it on next use."""
        async with self.database.write() as db:
            repo = McpServerRepo(db)
            server = await repo.get(server_id)
            name = changes.get("name")
            if name is not None and name != server.name and await repo.name_taken(name):
                raise McpServerExists(name)
            self._apply(server, changes)
            server.updated_at = utcnow()
            await repo.save(server)
        self._configs = None
        await self.servers.changed(server.id, self._config(server) if server.enabled else None)
        return self._view(server)

    async def delete(self, server_id: str) -> None:
        """The server goes, and its process (if any) is stopped before this returns."""
        async with self.database.write() as db:
            repo = McpServerRepo(db)
            await repo.remove(await repo.get(server_id))
        self._configs = None
        await self.servers.changed(server_id, None)

    async def status(self, server_id: str) -> McpStatus:
        await self.get(server_id)
        return self.servers.status(server_id)

    async def restart(self, server_id: str) -> McpStatus:
        async with self.database.read() as db:
            server = await McpServerRepo(db).get(server_id)
        if not server.enabled:
            raise InvalidRequest(
                f"MCP server {server.name} is disabled; enable it first",
                details={"server_id": server_id},
            )
        return await self.servers.restart(self._config(server))

    async def enabled_configs(self) -> list[McpServerConfig]:
        """What it takes to reach each enabled server, read again after a few seconds."""
        cached = self._configs
        if cached is not None and time.monotonic() - cached[0] < CONFIGS_TTL_SECONDS:
            return cached[1]
        configs = await uninterrupted(self._read_configs())
        self._configs = (time.monotonic(), configs)
        return configs

    async def aclose(self) -> None:
        await self.servers.aclose()

    async def _read_configs(self) -> list[McpServerConfig]:
        async with self.database.read() as db:
            rows = await McpServerRepo(db).enabled(limit=MAX_SERVERS)
        return [self._config(s) for s in rows]

    def _apply(self, server: McpServer, fields: dict[str, Any]) -> None:
        for key in PLAIN_FIELDS:
            if fields.get(key) is not None:
                setattr(server, key, fields[key])
        if "command" in fields:
            server.command = fields["command"]
        if "url" in fields:
            server.url = fields["url"]
        if "args" in fields:
            server.args = list(fields["args"] or [])
        if "env" in fields:
            env = _merged(self._open(server.env_encrypted), fields["env"])
            server.env_encrypted = self._seal(env)
        if "headers" in fields:
            headers = _merged(self._open(server.headers_encrypted), fields["headers"])
            server.headers_encrypted = self._seal(headers)
        _check_transport(server, fields)

    def _config(self, server: McpServer) -> McpServerConfig:
        return McpServerConfig(
            id=server.id,
            name=server.name,
            transport="http" if server.transport == "http" else "stdio",
            command=server.command,
            args=tuple(server.args or ()),
            env=self._open(server.env_encrypted),
            url=server.url,
            headers=self._open(server.headers_encrypted),
            requires_approval=server.requires_approval,
        )

    def _view(self, server: McpServer) -> McpServerView:
        env = self._open(server.env_encrypted)
        headers = self._open(server.headers_encrypted)
        status = self.servers.status(server.id) if server.enabled else McpStatus("stopped")
        return McpServerView(
            server,
            {key: preview(value) for key, value in env.items()},
            {key: preview(value) for key, value in headers.items()},
            status,
        )

    def _seal(self, values: dict[str, str]) -> str | None:
        return self.box.seal(orjson.dumps(values).decode()) if values else None

    def _open(self, sealed: str | None) -> dict[str, str]:
        if not sealed:
            return {}
        opened = self.box.open(sealed)
        if opened is None:
            log.warning("MCP server secrets sealed with another key cannot be read")
            return {}
        values: dict[str, str] = orjson.loads(opened)
        return values


def _merged(current: dict[str, str], patch: dict[str, str | None] | None) -> dict[str, str]:
    if patch is None:
        return {}
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _check_transport(server: McpServer, fields: dict[str, Any]) -> None:
    """A server has the fields of its own transport only, and the one it needs."""
    own = TRANSPORT_FIELDS[server.transport]
    foreign = [f for fields_ in TRANSPORT_FIELDS.values() for f in fields_ if f not in own]
    sent = [name for name in foreign if fields.get(name)]
    if sent:
        raise InvalidRequest(
            f"{', '.join(sent)} do not apply to {server.transport} servers",
            details={"fields": sent, "transport": server.transport},
        )
    if server.transport == "stdio":
        server.url, server.headers_encrypted = None, None
        if not (server.command or "").strip():
            raise InvalidRequest("A stdio server needs a command", details={"field": "command"})
    else:
        server.command, server.args, server.env_encrypted = None, [], None
        if not server.url:
            raise InvalidRequest("An http server needs a url", details={"field": "url"})
