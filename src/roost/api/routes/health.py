"""Health and feature flags: public, and never a 401 (Coqui)."""

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from roost.api.deps import AnyCaller, Services

router = APIRouter(tags=["health"])


class DatabaseHealth(BaseModel):
    backend: str
    ok: bool


class RedisHealth(BaseModel):
    ok: bool


class HealthOut(BaseModel):
    status: str
    version: str
    api_version: int
    min_client_version: str
    authenticated: bool
    provider: str | None
    model: str | None
    has_api_key: bool
    database: DatabaseHealth
    redis: RedisHealth | None


@router.get("/health", response_model=HealthOut)
async def health(caller: AnyCaller, services: Services) -> dict[str, Any]:
    """``authenticated`` says whether the credential sent (if any) is good."""
    return await services.system.health(authenticated=caller.authenticated)


@router.get("/features", response_model=dict[str, Any])
async def features(services: Services) -> dict[str, Any]:
    return services.system.features()
