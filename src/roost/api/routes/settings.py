"""Floyd's and Oqto's settings: a user's provider, key, model and instructions."""

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, StrictInt, StringConstraints

from roost.api.deps import Caller, Services
from roost.api.schemas.common import (
    ClientModel,
    Name,
    NoNul,
    ShortName,
    SuccessOut,
    WebUrl,
    Whole,
    either,
)

router = APIRouter(tags=["settings"])

Url = Annotated[WebUrl, StringConstraints(max_length=2048, pattern=r"^https?://\S+$")]
# A provider key travels in an HTTP header: printable ASCII only (a pasted key's spaces
# and line end are trimmed first); "" clears it.
Secret = Annotated[
    str,
    StringConstraints(strict=True, strip_whitespace=True, max_length=1000, pattern=r"^[!-~]*$"),
    NoNul,
]
Instructions = Annotated[str, StringConstraints(strict=True, max_length=100_000), NoNul]


class SettingsIn(ClientModel):
    """Only the keys sent change; ``null`` (or ``""``) clears one."""

    provider: ShortName | None = None
    api_key: Secret | None = None
    model: Name | None = None
    system_prompt: Instructions | None = None
    max_tokens: Annotated[StrictInt, Field(ge=1, le=1_000_000), Whole] | None = None
    base_url: Url | None = either("base_url", "baseURL")


class SettingsOut(BaseModel):
    provider: str | None
    model: str | None
    has_api_key: bool
    api_key_preview: str | None
    system_prompt: str | None
    max_tokens: int | None
    base_url: str | None


class TestKeyIn(ClientModel):
    provider: ShortName | None = None
    api_key: Secret | None = None
    base_url: Url | None = either("base_url", "baseURL")
    model: Name | None = None


class TestKeyOut(BaseModel):
    success: bool
    model: str | None = None
    message: str | None = None
    error: str | None = None


@router.get("/settings", response_model=SettingsOut)
async def get_settings(caller: Caller, services: Services) -> dict[str, Any]:
    """The caller's settings; a stored key shows only as ``api_key_preview``."""
    return await services.user_settings.shown(caller)


@router.patch("/settings", response_model=SettingsOut)
async def patch_settings(caller: Caller, services: Services, body: SettingsIn) -> dict[str, Any]:
    await services.user_settings.update(caller, body.model_dump(exclude_unset=True))
    return await services.user_settings.shown(caller)


@router.post("/settings", response_model=SuccessOut)
async def post_settings(caller: Caller, services: Services, body: SettingsIn) -> SuccessOut:
    """Floyd's update: the same as PATCH, answering ``{"success": true}``."""
    await services.user_settings.update(caller, body.model_dump(exclude_unset=True))
    return SuccessOut()


@router.get("/settings/schema", response_model=dict[str, Any])
async def settings_schema(_caller: Caller) -> dict[str, Any]:
    """The JSON schema of what PATCH /api/settings accepts (Oqto)."""
    return SettingsIn.model_json_schema()


@router.post("/test-key", response_model=TestKeyOut)
async def test_key(caller: Caller, services: Services, body: TestKeyIn) -> TestKeyOut:
    """Really call the provider with the key (or the stored one) and say if it works."""
    ok, model, message = await services.user_settings.test_key(
        caller, body.provider, body.api_key, body.base_url, body.model
    )
    if ok:
        return TestKeyOut(success=True, model=model, message=message)
    return TestKeyOut(success=False, model=model, error=message)
