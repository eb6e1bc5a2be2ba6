"""Roost's use cases, free of HTTP and SQL text; each owns its transaction."""

from dataclasses import dataclass
from typing import Any

from roost.bus.base import EventBus, TurnQueue
from roost.bus.limits import Counters, MemoryCounters, RedisCounters
from roost.bus.local import LocalEventBus, LocalTurnQueue
from roost.config import Settings
from roost.crypto import SecretBox
from roost.engine.providers.registry import ProviderRegistry
from roost.engine.tools.builtins import builtin_tools
from roost.engine.tools.registry import ToolRegistry
from roost.services.auth import AuthService
from roost.services.idempotency import IdempotencyStore
from roost.services.locations import LocationService
from roost.services.mcp import McpServerService
from roost.services.messages import MessageService
from roost.services.project_files import ProjectFiles
from roost.services.project_templates import TemplateService
from roost.services.projects import ProjectService
from roost.services.sessions import SessionService
from roost.services.skills import SkillService
from roost.services.system import SystemService
from roost.services.tokens import TokenSigner, secret_from_home
from roost.services.turn_execution import TurnExecutor
from roost.services.turn_inputs import TurnInputService
from roost.services.turns import TurnService
from roost.services.user_settings import SettingsService
from roost.store.db import Database


@dataclass(frozen=True)
class Services:
    settings: Settings
    database: Database
    bus: EventBus
    queue: TurnQueue
    providers: ProviderRegistry
    tools: ToolRegistry
    system: SystemService
    sessions: SessionService
    messages: MessageService
    turns: TurnService
    turn_inputs: TurnInputService
    user_settings: SettingsService
    executor: TurnExecutor
    auth: AuthService
    skills: SkillService
    locations: LocationService
    projects: ProjectService
    project_files: ProjectFiles
    templates: TemplateService
    mcp: McpServerService
    counters: Counters
    idempotency: IdempotencyStore

    @classmethod
    def build(cls, settings: Settings, database: Database, redis: Any | None) -> "Services":
        counters: Counters = RedisCounters(redis) if redis is not None else MemoryCounters()
        jwt_secret = (
            settings.jwt_secret.get_secret_value()
            if settings.jwt_secret
            else secret_from_home(settings.home)
        )
        signer = TokenSigner(
            jwt_secret, [s.get_secret_value() for s in settings.jwt_previous_secrets]
        )
        bus = LocalEventBus()
        providers = ProviderRegistry(settings)
        box = SecretBox.from_home(
            settings.home, settings.secret_key.get_secret_value() if settings.secret_key else None
        )
        user_settings = SettingsService(database, box, providers)
        tools = ToolRegistry(
            timeout_seconds=settings.tool_timeout_seconds,
            output_cap_bytes=settings.tool_output_cap_bytes,
        )
        locations = LocationService(database, settings)
        for tool in builtin_tools(settings, locations.roots):
            tools.register(tool)
        mcp = McpServerService(database, box, settings)
        tools.add_source(mcp.servers)
        skills = SkillService(database)
        projects = ProjectService(database, settings, locations)
        executor = TurnExecutor(database, bus, user_settings, skills, tools, projects, settings)
        queue = LocalTurnQueue(executor)
        turns = TurnService(database, bus, queue, user_settings, settings)
        return cls(
            settings=settings,
            database=database,
            bus=bus,
            queue=queue,
            providers=providers,
            tools=tools,
            system=SystemService(settings, database, redis, providers),
            sessions=SessionService(database, before_delete=turns.stop_all, projects=projects),
            messages=MessageService(database),
            turns=turns,
            turn_inputs=TurnInputService(database, turns),
            user_settings=user_settings,
            executor=executor,
            auth=AuthService(database, settings, signer, counters),
            skills=skills,
            locations=locations,
            projects=projects,
            project_files=ProjectFiles(projects),
            templates=TemplateService(settings, projects),
            mcp=mcp,
            counters=counters,
            idempotency=IdempotencyStore(database),
        )

    async def aclose(self) -> None:
        """Stop running turns (they end ``interrupted``), then MCP servers' processes,
        then let go of providers."""
        await self.queue.aclose()
        await self.executor.drain()
        await self.mcp.aclose()
        await self.providers.aclose()
