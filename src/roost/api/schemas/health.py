"""The health check's answer."""

from pydantic import BaseModel


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
