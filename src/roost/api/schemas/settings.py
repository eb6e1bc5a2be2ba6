"""A user's settings, and the check of a provider key."""

from typing import Annotated

from pydantic import BaseModel, Field, StrictInt, StringConstraints

from roost.api.schemas.common import ClientModel, Name, NoNul, ShortName, WebUrl, Whole, either

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
