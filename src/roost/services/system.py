"""What the server says about itself: health and optional features."""

from typing import Any

from roost import __version__
from roost.bus.base import EventBus, TurnQueue
from roost.bus.limits import Counters
from roost.bus.notices import Notices
from roost.bus.redis import ping
from roost.config import Settings
from roost.engine.providers.registry import ProviderRegistry
from roost.engine.tools.command_sandbox import find_bubblewrap
from roost.services.vector_indexing import VectorIndexer
from roost.store.db import Database

API_VERSION = 1


class SystemService:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        redis: Any | None,
        providers: ProviderRegistry,
        *,
        bus: EventBus,
        queue: TurnQueue,
        counters: Counters,
        notices: Notices | None = None,
        indexer: VectorIndexer | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.redis = redis
        self.providers = providers
        self.bus = bus
        self.queue = queue
        self.counters = counters
        self.notices = notices
        self.indexer = indexer

    async def health(self, *, authenticated: bool) -> dict[str, Any]:
        database_ok = await self.database.ping()
        report: dict[str, Any] = {
            "status": "ok" if database_ok else "degraded",
            "version": __version__,
            "api_version": API_VERSION,
            "min_client_version": self.settings.min_client_version,
            "authenticated": authenticated,
            **self._default_provider(),
            "database": {"backend": self.database.backend, "ok": database_ok},
            "redis": None,
        }
        if self.redis is not None:
            redis_ok = await ping(self.redis)
            report["redis"] = {"ok": redis_ok}
            if not redis_ok:
                report["status"] = "degraded"
        return report

    def _default_provider(self) -> dict[str, Any]:
        """Floyd's provider, model and hasApiKey: what a turn without a model would use."""
        configs = self.providers.configs
        if not configs:
            return {"provider": None, "model": self.settings.default_model, "has_api_key": False}
        wanted = self.settings.default_model or ""
        provider_id = wanted.partition("/")[0] if "/" in wanted else next(iter(configs))
        config = configs.get(provider_id) or next(iter(configs.values()))
        return {
            "provider": provider_id,
            "model": self.settings.default_model or config.default_model,
            "has_api_key": config.api_key is not None,
        }

    def _search(self) -> dict[str, str]:
        """Where vectors come from (provider, local or none), what compares them
        (sqlite-vec, pgvector, python or none) and what searches words."""
        embedder = self.indexer.embedder if self.indexer is not None else None
        embeddings = embedder.backend if embedder is not None else "none"
        compared = self.indexer.index.backend if self.indexer is not None else "none"
        return {
            "embeddings": embeddings,
            "vector_search": compared if embeddings != "none" else "none",
            "full_text_search": "fts5" if self.database.backend == "sqlite" else "tsvector",
        }

    def _command_sandbox(self) -> dict[str, Any]:
        """How run_command is contained: by bubblewrap for everyone, else admins only."""
        enabled = self.settings.run_command_enabled
        sandboxed = enabled and find_bubblewrap(self.settings.run_command_bwrap) is not None
        return {
            "run_command_sandbox": "bubblewrap" if sandboxed else None,
            "run_command_admin_only": enabled and not sandboxed,
        }

    def features(self) -> dict[str, Any]:
        """Capabilities this server has switched on; clients hide what is off."""
        required = self.settings.auth_mode == "required"
        return {
            "api_version": API_VERSION,
            "auth": required,
            "registration": self.settings.registration if required else "closed",
            "single_user": not required,
            "websocket": True,
            "streaming": True,
            "mcp": True,
            "projects": True,
            "approvals": True,
            "tasks": True,
            "agents": True,
            "runs": True,
            "evaluations": True,
            "memories": True,
            **self._search(),
            "terminal": self.settings.terminal_enabled,
            "idempotency": True,
            "run_command": self.settings.run_command_enabled,
            **self._command_sandbox(),
            "fetch_url": self.settings.fetch_url_enabled,
            "scheduler": self.settings.scheduler_enabled,
            "voice": False,
            "agent_browser": False,
            **self._back_ends(),
        }

    def _back_ends(self) -> dict[str, Any]:
        """What is wired, not what is configured: Redis alone shares the rate-limit
        counters, while replicas share turns only when the bus and queue are shared too."""
        shared = self.bus.backend != "local" and self.queue.backend != "local"
        return {
            "scale_out": shared,
            "bus": self.bus.backend,
            "queue": self.queue.backend,
            "rate_limit_counters": self.counters.backend,
            "notices": self.notices.backend if self.notices is not None else "local",
        }
