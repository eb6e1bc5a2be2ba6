"""A user's settings: provider, key, model and instructions (Floyd's and Oqto's extras
are in :mod:`roost.api.compat`)."""

from typing import Any

from fastapi import APIRouter

from roost.api.deps import Caller, Services
from roost.api.schemas.settings import SettingsIn, SettingsOut

router = APIRouter(tags=["settings"])


@router.get("/settings", response_model=SettingsOut)
async def get_settings(caller: Caller, services: Services) -> dict[str, Any]:
    """The caller's settings; a stored key shows only as ``api_key_preview``."""
    return await services.user_settings.shown(caller)


@router.patch("/settings", response_model=SettingsOut)
async def patch_settings(caller: Caller, services: Services, body: SettingsIn) -> dict[str, Any]:
    await services.user_settings.update(caller, body.model_dump(exclude_unset=True))
    return await services.user_settings.shown(caller)
