"""MCP servers: one list for the whole server, which admins keep."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.errors import McpServerExists, McpServerNotFound
from roost.store.db import flush_unique
from roost.store.models import McpServer
from roost.store.paging import cut


class McpServerRepo:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def find(self, server_id: str) -> McpServer | None:
        if not ids.is_valid("mcp", server_id):
            return None
        return await self.db.get(McpServer, server_id)

    async def get(self, server_id: str) -> McpServer:
        server = await self.find(server_id)
        if server is None:
            raise McpServerNotFound(server_id)
        return server

    async def page(self, *, limit: int, after: str | None = None) -> tuple[list[McpServer], bool]:
        """Oldest first (ids are time-ordered), following ``after``."""
        query = select(McpServer)
        if after is not None:
            query = query.where(McpServer.id > after)
        query = query.order_by(McpServer.id).limit(limit + 1)
        return cut((await self.db.execute(query)).scalars().all(), limit)

    async def enabled(self, *, limit: int) -> list[McpServer]:
        query = select(McpServer).where(McpServer.enabled.is_(True)).order_by(McpServer.name)
        return list((await self.db.execute(query.limit(limit))).scalars().all())

    async def name_taken(self, name: str) -> bool:
        query = select(McpServer.id).where(McpServer.name == name)
        return await self.db.scalar(query) is not None

    async def count_reaches(self, count: int) -> bool:
        """Whether there are at least ``count`` servers."""
        query = select(McpServer.id).order_by(McpServer.id).limit(1).offset(count - 1)
        return await self.db.scalar(query) is not None

    async def add(self, server: McpServer) -> None:
        """A new server; its name taken (also at the same moment) is a 409."""
        self.db.add(server)
        await flush_unique(self.db, McpServerExists(server.name))

    async def save(self, server: McpServer) -> None:
        """Write a changed server now; a name another server took is a 409."""
        await flush_unique(self.db, McpServerExists(server.name))

    async def remove(self, server: McpServer) -> None:
        await self.db.delete(server)
