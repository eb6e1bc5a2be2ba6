"""Health and feature flags: public, and never a 401 (Coqui)."""

from typing import Any

from fastapi import APIRouter

from roost.api.deps import AnyCaller, Services
from roost.api.schemas.health import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
async def health(caller: AnyCaller, services: Services) -> dict[str, Any]:
    """``authenticated`` says whether the credential sent (if any) is good."""
    return await services.system.health(authenticated=caller.authenticated)


@router.get("/features", response_model=dict[str, Any])
async def features(services: Services) -> dict[str, Any]:
    return services.system.features()
