"""What the server says about itself: health and optional features."""

from typing import Any

from roost import __version__
from roost.bus.redis import ping
from roost.config import Settings
from roost.store.db import Database

API_VERSION = 1


class SystemService:
    def __init__(self, settings: Settings, database: Database, redis: Any | None) -> None:
        self.settings = settings
        self.database = database
        self.redis = redis

    async def health(self, *, authenticated: bool) -> dict[str, Any]:
        database_ok = await self.database.ping()
        report: dict[str, Any] = {
            "status": "ok" if database_ok else "degraded",
            "version": __version__,
            "api_version": API_VERSION,
            "min_client_version": self.settings.min_client_version,
            "authenticated": authenticated,
            "provider": None,
            "model": None,
            "has_api_key": False,
            "database": {"backend": self.database.backend, "ok": database_ok},
            "redis": None,
        }
        if self.redis is not None:
            redis_ok = await ping(self.redis)
            report["redis"] = {"ok": redis_ok}
            if not redis_ok:
                report["status"] = "degraded"
        return report

    def features(self) -> dict[str, Any]:
        """Capabilities this server has switched on; clients hide what is off."""
        return {
            "api_version": API_VERSION,
            "auth": False,
            "registration": "closed",
            "single_user": True,
            "websocket": False,
            "streaming": False,
            "mcp": False,
            "scheduler": False,
            "voice": False,
            "agent_browser": False,
            "scale_out": self.redis is not None,
        }
