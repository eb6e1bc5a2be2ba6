"""Roost's settings: one object, read once, passed in.

Sources, strongest first: values given in code or on the command line, ``ROOST_*``
environment variables, then ``roost.toml`` (the file named by ``ROOST_CONFIG``, else
``./roost.toml`` when it exists).
"""

import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CORS_ORIGINS = ["http://localhost:5173", "http://localhost:3000"]


def config_file() -> Path:
    return Path(os.environ.get("ROOST_CONFIG", "roost.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROOST_", extra="ignore", validate_default=True)

    home: Path = Field(Path("~/.roost"), description="Where Roost keeps its data.")
    host: str = Field("127.0.0.1", description="Address `roost serve` binds.")
    port: int = Field(8787, ge=0, le=65535, description="Port `roost serve` listens on.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default SQLite at `<home>/roost.db`."
    )
    redis_url: str | None = Field(None, description="Redis URL, for scale-out and shared limits.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_CORS_ORIGINS),
        description="Origins allowed by CORS, comma-separated.",
    )
    max_body_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest request body accepted, in bytes."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Least severe log level written."
    )
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="`json` lines, plain `text`, or `auto` (text on a terminal)."
    )
    min_client_version: str = Field(
        "0.1.0", description="Oldest client version this server still supports."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
        return (init_settings, env_settings, toml)

    @field_validator("home")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        """Accept the URLs people have at hand and pick Roost's async drivers for them."""
        if value is None:
            return None
        for plain, driver in (
            ("postgres://", "postgresql+asyncpg://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if value.startswith(plain):
                return driver + value.removeprefix(plain)
        return value

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.home / 'roost.db'}"

    def masked(self) -> dict[str, Any]:
        """The effective settings, with every password in a URL replaced by ``***``."""
        shown = self.model_dump(mode="json")
        shown["database_url"] = self.effective_database_url
        for key in ("database_url", "redis_url"):
            if shown[key]:
                shown[key] = mask_url_password(shown[key])
        return shown


def mask_url_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
