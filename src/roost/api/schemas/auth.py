"""Accounts, logins and API keys: what a client sends and what is shown (API.md §3)."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from roost.api.schemas.common import (
    SPACE,
    ClientModel,
    DateTimeIn,
    Name,
    NoNul,
    ShortName,
    Timestamp,
)
from roost.services.auth import EMAIL
from roost.store.models import ApiKey, User

# The service's own rule, so the document holds it: what fails it is 422, not a 400 later
# (without NUL, which no text may hold, so that the pattern says all of it).
EMAIL_PATTERN = "^" + EMAIL.pattern.replace(r"[^@\s]", rf"[^@{SPACE}\x00]") + "$"
Email = Annotated[
    str,
    StringConstraints(strict=True, strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN),
    NoNul,
]
Scope = Literal["read", "write", "admin"]
Password = Annotated[str, StringConstraints(strict=True, max_length=1024), NoNul]
Token = Annotated[str, StringConstraints(strict=True, max_length=512), NoNul]


class RegisterIn(ClientModel):
    email: Email
    password: Password
    name: Name = ""
    invite_code: ShortName | None = None


class LoginIn(ClientModel):
    email: Email
    password: Password


class RefreshIn(ClientModel):
    refresh_token: Token | None = None


class ChangePasswordIn(ClientModel):
    current_password: Password
    new_password: Password


class MeIn(ClientModel):
    name: Name | None = None


class UserOut(BaseModel):
    id: str
    email: str | None
    name: str
    is_admin: bool
    is_active: bool
    created_at: Timestamp
    last_login_at: Timestamp | None

    @classmethod
    def of(cls, user: User) -> "UserOut":
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            is_admin=user.is_admin,
            is_active=user.is_active,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
        )


class TokensOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int
    refresh_token: str
    user: UserOut


class ApiKeyIn(ClientModel):
    name: Name
    expires_at: DateTimeIn | None = None
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=3)] | None = Field(
        None,
        description="Some of read, write, admin, each held by the caller; left out: the "
        "caller's own.",
    )


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: Timestamp
    expires_at: Timestamp | None
    last_used_at: Timestamp | None

    @classmethod
    def of(cls, key: ApiKey) -> "ApiKeyOut":
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            scopes=key.scopes or [],
            created_at=key.created_at,
            expires_at=key.expires_at,
            last_used_at=key.last_used_at,
        )


class NewApiKeyOut(ApiKeyOut):
    key: str = Field(description="The secret: shown this once, never again.")


class ApiKeysOut(BaseModel):
    data: list[ApiKeyOut]
    has_more: bool = False
    next_cursor: str | None = None
