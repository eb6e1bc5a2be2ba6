"""The ASGI application: ``create_app(settings)`` builds one; its lifespan owns resources."""

import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from roost import __version__, wiring
from roost.api import openapi, web_ui
from roost.api.compat import coqui, floyd, minidevin, openai_chat, openai_responses, oqto
from roost.api.middleware import error_handlers
from roost.api.middleware.context import RequestContextMiddleware
from roost.api.middleware.host_guard import LoopbackHostGuard
from roost.api.middleware.idempotency import IdempotencyMiddleware
from roost.api.middleware.json_body import plain_json_body
from roost.api.middleware.rate_limits import EXPOSED_HEADERS, RateLimitMiddleware, RateLimits
from roost.api.routes import (
    admin,
    agents,
    auth,
    compaction,
    delegation,
    evals,
    health,
    mcp,
    memories,
    messages,
    models,
    project_files,
    project_locations,
    project_templates,
    projects,
    runs,
    scheduler,
    search,
    sessions,
    skills,
    tasks,
    tools,
    turn_inputs,
    turns,
)
from roost.api.routes import settings as settings_api
from roost.api.sse import SESSION_HEADER, TURN_HEADER
from roost.api.ws import mux as websocket
from roost.bus import redis as redis_bus
from roost.config import Settings
from roost.store import migrate
from roost.store.db import Database
from roost.store.users import ensure_local_user

API_PREFIXES = ("/api", "/api/v1")


class UnsafeConfiguration(Exception):
    """Settings that must not serve (e.g. no authentication on a public address)."""


def api_router(settings: Settings) -> APIRouter:
    router = APIRouter()
    router.include_router(auth.router)
    router.include_router(auth.me_router)
    if settings.dev_mode:
        router.include_router(auth.dev_router)
    for module in (
        health,
        models,
        settings_api,
        coqui,
        agents,
        runs,
        evals,
        memories,
        search,
        sessions,
        floyd,
        messages,
        turns,
        turn_inputs,
        compaction,
        tasks,
        scheduler,
        delegation,
        websocket,
        skills,
        tools,
        mcp,
        admin,
        # /projects/locations, /templates and /logo before /projects/{project_id}
        project_locations,
        project_templates,
        project_files,
        projects,
        oqto,
    ):
        router.include_router(module.router)
    return router


def create_app(settings: Settings, *, freeze_gc: bool = False) -> FastAPI:
    """The app for ``settings``; ``freeze_gc`` suits a server process that owns its heap."""

    refusal = settings.unsafe_start()
    if refusal is not None:
        raise UnsafeConfiguration(refusal)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.effective_database_url, pool_size=settings.database_pool_size)
        redis = redis_bus.connect(settings.redis_url) if settings.redis_url else None
        try:
            await migrate.upgrade(database)
            async with database.write() as db:
                await ensure_local_user(db)
            services = wiring.build(settings, database, redis)
            for provider_id in services.providers.ids():
                # Its SDK loads now rather than in a first turn; one that cannot be built
                # fails where it is used, as it would have anyway.
                with contextlib.suppress(Exception):
                    services.providers.get(provider_id)
            await services.locations.seed()
            await services.agents.seed()
            await services.turns.recover()
            await services.tasks.recover()
            await services.evals.recover()
            await services.indexer.start()
            if settings.scheduler_enabled:
                services.schedule_loop.start()
            app.state.services = services
            if freeze_gc:
                # What start-up made lives as long as the process: keep the collector off
                # it (full collections went from ~67 ms to ~2 ms in bench_store).
                gc.collect()
                gc.freeze()
            try:
                yield
            finally:
                await services.aclose()
        finally:
            if redis is not None:
                await redis.aclose()
            await database.close()

    app = FastAPI(
        title="Roost",
        version=__version__,
        summary="A self-hosted server for LLM agents.",
        openapi_url="/api/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
        # Before any route reads a body, and so before authentication, like a JSON syntax error.
        dependencies=[Depends(plain_json_body)],
    )
    router = api_router(settings)
    app.include_router(router, prefix=API_PREFIXES[0])
    for prefix in API_PREFIXES[1:]:
        app.include_router(router, prefix=prefix, include_in_schema=False)
    minidevin.install(app)
    app.include_router(openai_chat.router)
    app.include_router(openai_responses.router)
    web_ui.install(app)
    error_handlers.install(app)
    openapi.install(app)
    # Inside CORS, so that a 429 carries the CORS headers a browser needs to read it.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(RateLimitMiddleware, limits=RateLimits.from_settings(settings))
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-Request-ID", TURN_HEADER, SESSION_HEADER, *EXPOSED_HEADERS],
    )
    if settings.auth_mode == "local":
        app.add_middleware(LoopbackHostGuard, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    if settings.trusted_proxies:
        # Outermost, so that everything inside (rate limits, logins, logs) sees the client
        # the proxy names. Only here: `roost serve` turns uvicorn's own reading off.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app
