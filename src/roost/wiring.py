"""The composition root's parts: every service, the bus, the queue and the providers,
built once, by the app's start-up (and by the CLI's account commands, the same way).

Nothing else builds services; a route reaches them through ``request.app.state``.
"""

from dataclasses import dataclass
from typing import Any

from roost.bus.base import EventBus, TurnQueue
from roost.bus.limits import Counters, MemoryCounters, RedisCounters
from roost.bus.local import LocalEventBus, LocalTurnQueue
from roost.bus.notices import LocalNotices, RedisNotices
from roost.config import Settings
from roost.crypto import SecretBox
from roost.engine.providers.registry import ProviderRegistry
from roost.engine.tools.builtins import builtin_tools
from roost.engine.tools.registry import ToolRegistry
from roost.services.admin import AdminService, ServerAdmin
from roost.services.admin_invites import InviteAdmin
from roost.services.admin_users import UserAdmin
from roost.services.agents import AgentService
from roost.services.auth import AuthService
from roost.services.conversations import ConversationService
from roost.services.delegation import DelegationOwner, DelegationService
from roost.services.embedder import Embedder
from roost.services.evals.runner import EvalRunner
from roost.services.evals.service import EvalService
from roost.services.evals.testsets import TestSetService
from roost.services.idempotency import IdempotencyStore
from roost.services.locations import LocationService
from roost.services.mcp import McpServerService
from roost.services.memories import MemoryService
from roost.services.messages import MessageService
from roost.services.project_files import ProjectFiles
from roost.services.project_templates import TemplateService
from roost.services.projects import ProjectService
from roost.services.runs import RunOwner, RunService
from roost.services.scheduler import ScheduleOwner, Scheduler, SchedulerService
from roost.services.search import SearchService
from roost.services.sessions import SessionService
from roost.services.skills import SkillService
from roost.services.system import SystemService
from roost.services.tasks import TaskArtifacts, TaskOwner, TaskService
from roost.services.tokens import TokenSigner, secret_from_home
from roost.services.turns import TurnExecutor, TurnInputService, TurnOwners, TurnService
from roost.services.user_settings import SettingsService
from roost.services.vector_indexing import VectorIndexer
from roost.store.db import Database
from roost.store.vectors import PYTHON, VectorIndex


@dataclass(frozen=True)
class Services:
    """What the application runs on, typed, as ``app.state.services``."""

    settings: Settings
    database: Database
    bus: EventBus
    queue: TurnQueue
    notices: LocalNotices  # or RedisNotices, which is one
    providers: ProviderRegistry
    tools: ToolRegistry
    agents: AgentService
    memories: MemoryService
    search: SearchService
    indexer: VectorIndexer
    runs: RunService
    testsets: TestSetService
    evals: EvalService
    system: SystemService
    sessions: SessionService
    messages: MessageService
    turns: TurnService
    conversations: ConversationService
    turn_inputs: TurnInputService
    tasks: TaskService
    task_artifacts: TaskArtifacts
    scheduler: SchedulerService
    delegation: DelegationService
    schedule_loop: Scheduler
    user_settings: SettingsService
    executor: TurnExecutor
    auth: AuthService
    admin: AdminService
    skills: SkillService
    locations: LocationService
    projects: ProjectService
    project_files: ProjectFiles
    templates: TemplateService
    mcp: McpServerService
    counters: Counters
    idempotency: IdempotencyStore

    async def aclose(self) -> None:
        """Stop firing scheduled jobs and running evaluations, stop running turns (they
        end ``interrupted``), then MCP servers' processes, then let go of providers."""
        await self.schedule_loop.stop()
        await self.evals.aclose()
        await self.indexer.aclose()
        if isinstance(self.notices, RedisNotices):
            await self.notices.aclose()
        await self.queue.aclose()
        await self.executor.drain()
        await self.mcp.aclose()
        await self.providers.aclose()


def build(settings: Settings, database: Database, redis: Any | None) -> Services:
    """Every service over ``database``; ``redis`` (when configured) shares the counters.

    Turns run and fan out in this process: the bus and queue are the in-process ones.
    """
    counters: Counters = RedisCounters(redis) if redis is not None else MemoryCounters()
    bus = LocalEventBus()
    providers = ProviderRegistry(settings)
    box = SecretBox.from_home(
        settings.home, settings.secret_key.get_secret_value() if settings.secret_key else None
    )
    user_settings = SettingsService(database, box, providers)
    locations = LocationService(database, settings)
    mcp = McpServerService(database, box, settings)
    tools = _tools(settings, locations, mcp)
    skills = SkillService(database)
    projects = ProjectService(database, settings, locations)
    notices = RedisNotices(redis) if redis is not None else LocalNotices()
    owners = TurnOwners(notices)
    agents = AgentService(database, settings)
    embedder = Embedder(providers, settings.embedding_model)
    vectors = VectorIndex(PYTHON)  # until start-up asks the database
    indexer = VectorIndexer(database, embedder, vectors)
    owners.watch(indexer.turn_ended)
    memories = MemoryService(database, projects, embedder, vectors)
    for tool in memories.tools():
        tools.register(tool)
    executor = TurnExecutor(
        database, bus, user_settings, skills, tools, projects, settings, owners, agents, memories
    )
    queue = LocalTurnQueue(executor)
    turns = TurnService(database, bus, queue, user_settings, settings, owners, agents)
    sessions = SessionService(
        database,
        before_delete=turns.stop_all,
        projects=projects,
        notices=notices,
        agents=agents,
        history_replaced=indexer.session_changed,
    )
    task_owner = TaskOwner(database, projects, settings.home, notices)
    owners.register("task", task_owner)
    tasks = TaskService(database, turns, sessions, task_owner)
    owners.register("schedule", ScheduleOwner())
    scheduler = SchedulerService(database, turns, sessions, projects)
    owners.register("run", RunOwner(database))
    runs = RunService(database, turns, sessions, agents, user_settings)
    evals = EvalService(
        database,
        runs,
        agents,
        EvalRunner(database, runs, user_settings, settings, notices),
        notices,
        max_concurrency=settings.eval_max_concurrency,
        heartbeat_seconds=settings.heartbeat_seconds,
    )
    delegation = DelegationService(turns, sessions, settings)
    owners.register("delegation", DelegationOwner())
    owners.watch(delegation.parent_ended)
    for tool in delegation.tools():
        tools.register(tool)
    auth = AuthService(database, settings, _signer(settings), counters)
    system = SystemService(
        settings,
        database,
        redis,
        providers,
        bus=bus,
        queue=queue,
        counters=counters,
        notices=notices,
        indexer=indexer,
    )
    return Services(
        settings=settings,
        database=database,
        bus=bus,
        queue=queue,
        notices=notices,
        providers=providers,
        tools=tools,
        agents=agents,
        memories=memories,
        search=SearchService(database, projects, embedder, vectors),
        indexer=indexer,
        runs=runs,
        testsets=TestSetService(database),
        evals=evals,
        system=system,
        sessions=sessions,
        messages=MessageService(database),
        turns=turns,
        conversations=ConversationService(sessions, turns, agents),
        turn_inputs=TurnInputService(database, turns),
        tasks=tasks,
        task_artifacts=TaskArtifacts(database, tasks, task_owner),
        scheduler=scheduler,
        delegation=delegation,
        schedule_loop=Scheduler(database, scheduler, settings.scheduler_poll_seconds),
        user_settings=user_settings,
        executor=executor,
        auth=auth,
        admin=_admin(settings, database, auth, turns, sessions),
        skills=skills,
        locations=locations,
        projects=projects,
        project_files=ProjectFiles(projects),
        templates=TemplateService(settings, projects),
        mcp=mcp,
        counters=counters,
        idempotency=IdempotencyStore(database),
    )


def _signer(settings: Settings) -> TokenSigner:
    """Signs with ``ROOST_JWT_SECRET`` (else the home's own), still accepts the previous."""
    secret = (
        settings.jwt_secret.get_secret_value()
        if settings.jwt_secret
        else secret_from_home(settings.home)
    )
    return TokenSigner(secret, [s.get_secret_value() for s in settings.jwt_previous_secrets])


def _tools(settings: Settings, locations: LocationService, mcp: McpServerService) -> ToolRegistry:
    """The built-in tools, then every MCP server's."""
    tools = ToolRegistry(
        timeout_seconds=settings.tool_timeout_seconds,
        output_cap_bytes=settings.tool_output_cap_bytes,
    )
    for tool in builtin_tools(settings, locations.roots):
        tools.register(tool)
    tools.add_source(mcp.servers)
    return tools


def _admin(
    settings: Settings,
    database: Database,
    auth: AuthService,
    turns: TurnService,
    sessions: SessionService,
) -> AdminService:
    users = UserAdmin(database, settings, auth, turns)
    return AdminService(
        users=users,
        invites=InviteAdmin(database),
        server=ServerAdmin(database, sessions, users),
    )
