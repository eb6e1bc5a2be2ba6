"""Roost's settings: one object, read once, passed in.

Sources, strongest first: values given in code or on the command line, ``ROOST_*``
environment variables, then ``roost.toml`` (the file named by ``ROOST_CONFIG``, else
``./roost.toml`` when it exists).
"""

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CORS_ORIGINS = ["http://localhost:5173", "http://localhost:3000"]


class ProviderSettings(BaseModel):
    """A named model endpoint, e.g. ``[providers.openai-prod]`` in roost.toml."""

    kind: Literal["openai", "anthropic"] = "openai"
    base_url: str | None = None
    api_key: SecretStr | None = None
    name: str | None = None
    models: list[str] = Field(default_factory=list, description="Models it offers, if known.")
    default_model: str | None = None


class ModelPrice(BaseModel):
    """What a model costs, in US dollars per million tokens."""

    input_per_million: float = Field(ge=0)
    output_per_million: float = Field(ge=0)

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (
            input_tokens * self.input_per_million + output_tokens * self.output_per_million
        ) / 1e6


class AgentSettings(BaseModel):
    """An agent (Coqui's role), e.g. ``[agents.coder]`` in roost.toml."""

    description: str = ""
    model: str | None = None
    preamble: str = ""
    tools: list[str] | None = Field(None, description="Tool names; all tools when unset.")
    max_iterations: int | None = Field(None, ge=1, le=1000)
    requires_approval: bool = Field(False, description="Every tool call waits for approval.")
    skills: list[str] = Field(default_factory=list, description="Skills every turn brings in.")
    temperature: float | None = Field(None, ge=0, le=2)
    recall_memories: bool = Field(True, description="Relevant memories join each turn.")


DEFAULT_AGENT = AgentSettings(
    description="General-purpose assistant.",
    preamble="You are a helpful assistant. Answer clearly and concisely.",
)


def _env(name: str) -> Any:
    """A setting also read from a well-known variable without Roost's prefix."""
    return AliasChoices(name.lower(), f"ROOST_{name}", name)


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
    database_pool_size: int = Field(
        30,
        ge=1,
        le=1000,
        description="PostgreSQL connections a process opens at most; more writers wait.",
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
    auth: Literal["local", "required"] | None = Field(
        None,
        description="`local`: no credential acts as the local owner; `required`: every "
        "non-public route needs one. Default: local on a loopback bind, else required.",
    )
    registration: Literal["invite", "open", "closed"] = Field(
        "invite", description="Who may register after the first user (who becomes admin)."
    )
    dev_mode: bool = Field(False, description="Enables /api/auth/dev-login. Never in production.")
    jwt_secret: SecretStr | None = Field(
        None, description="Signs access tokens; default: a key file in the home."
    )
    jwt_previous_secrets: list[SecretStr] = Field(
        default_factory=list, description="Older secrets still accepted, for rotation."
    )
    access_token_minutes: int = Field(60, ge=1, le=24 * 60, description="Access token lifetime.")
    refresh_token_days: int = Field(30, ge=1, le=365, description="Refresh token lifetime.")
    password_min_length: int = Field(10, ge=8, le=128, description="Shortest password accepted.")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of the reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed (comma-separated); none by default.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names a server without login answers to besides loopback ones "
        "(comma-separated); others are refused, against DNS rebinding.",
    )
    rate_limit_per_minute: int | None = Field(
        None, ge=1, description="Requests a minute per user or key (default 100; off in local)."
    )
    rate_limit_anonymous_per_minute: int | None = Field(
        None, ge=1, description="Requests a minute per client address without a credential (10)."
    )
    rate_limit_concurrent: int | None = Field(
        None, ge=1, description="Requests at once per principal (default 20; off in local)."
    )
    secret_key: SecretStr | None = Field(
        None, description="Fernet key for secrets at rest; default: a key file in the home."
    )
    openai_api_key: SecretStr | None = Field(None, validation_alias=_env("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=_env("OPENAI_BASE_URL"))
    anthropic_api_key: SecretStr | None = Field(None, validation_alias=_env("ANTHROPIC_API_KEY"))
    anthropic_base_url: str | None = Field(None, validation_alias=_env("ANTHROPIC_BASE_URL"))
    ollama_base_url: str | None = Field(None, validation_alias=_env("OLLAMA_BASE_URL"))
    providers: dict[str, ProviderSettings] = Field(
        default_factory=dict, description="Named providers, beside those from the environment."
    )
    default_model: str | None = Field(
        None, description="Model used when neither message, session nor agent names one."
    )
    agents: dict[str, AgentSettings] = Field(
        default_factory=dict, description="Agents (roles); `assistant` always exists."
    )
    model_prices: dict[str, ModelPrice] = Field(
        default_factory=dict,
        description='Prices by "provider/model" (or model name): evaluations report costs.',
    )
    embedding_model: str | None = Field(
        None,
        description='"provider/model" of an OpenAI-compatible embeddings endpoint: memory '
        "search by meaning; unset, by words alone.",
    )
    memory_context_tokens: int = Field(
        500, ge=0, le=100_000, description="Tokens of recalled memories a turn may get; 0: off."
    )
    eval_max_concurrency: int = Field(
        16, ge=1, le=256, description="Cases an evaluation run may run at once, at most."
    )
    max_iterations: int = Field(25, ge=1, le=1000, description="Model calls a turn may make.")
    max_tokens: int = Field(4096, ge=1, description="Answer length limit per model call.")
    tool_timeout_seconds: float = Field(60, gt=0, description="Time limit of one tool call.")
    heartbeat_seconds: float = Field(15, gt=0, description="Silence before a stream heartbeat.")
    delegation_max_depth: int = Field(
        3, ge=1, le=10, description="How deep delegated sessions may nest."
    )
    delegation_max_children: int = Field(
        5, ge=1, le=100, description="Sessions one turn may delegate to."
    )
    terminal_enabled: bool = Field(
        False, description="Admins may open a shell in a project over the WebSocket."
    )
    scheduler_enabled: bool = Field(True, description="Whether this process fires scheduled jobs.")
    scheduler_poll_seconds: float = Field(
        1.0, gt=0, le=60, description="How often the scheduler looks for due jobs."
    )
    ws_max_frame_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest WebSocket frame a client may send."
    )
    ws_send_queue: int = Field(
        512, ge=16, description="Frames a WebSocket connection may fall behind before it is cut."
    )
    ws_ping_seconds: float = Field(30, gt=0, description="Between the WebSocket's ping frames.")
    ws_idle_seconds: float = Field(
        600, gt=0, description="Silence from a WebSocket client before it is closed."
    )
    provider_retries: int = Field(3, ge=1, le=10, description="Tries before the first token.")
    project_locations: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Folders project paths must live under (comma-separated); "
        "ROOST_HOME/projects when none are set.",
    )
    tool_output_cap_bytes: int = Field(
        64 * 1024, ge=1024, description="Longest tool result kept; longer ones are cut."
    )
    tools_requiring_approval: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["run_command"],
        description="Tools whose every call waits for the user's approval (comma-separated).",
    )
    run_command_enabled: bool = Field(False, description="Lets agents run shell commands.")
    run_command_timeout_seconds: float = Field(
        30, gt=0, le=3600, description="Time limit of one run_command call."
    )
    run_command_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Programs run_command may start (comma-separated); any when empty.",
    )
    run_command_bwrap: str = Field(
        "bwrap",
        description="The bubblewrap program run_command sandboxes commands with; without "
        "a working one, run_command is for admins only.",
    )
    run_command_network: bool = Field(
        False, description="Lets sandboxed commands reach the network (and the project's policy)."
    )
    fetch_url_enabled: bool = Field(False, description="Lets agents fetch web pages.")
    fetch_url_allow_private: bool = Field(
        False, description="Lets fetch_url reach loopback and private addresses."
    )
    fetch_url_max_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest response fetch_url reads."
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

    @field_validator(
        "cors_origins",
        "project_locations",
        "tools_requiring_approval",
        "run_command_allow",
        "trusted_proxies",
        "allowed_hosts",
        mode="before",
    )
    @classmethod
    def _split_lists(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        """Each an address or a network, written canonically; anything else stops the start
        (uvicorn would silently compare it as text and trust nothing, or the wrong thing)."""
        return [str(ipaddress.ip_network(item, strict=False)) for item in value]

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
    def loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")

    @property
    def auth_mode(self) -> Literal["local", "required"]:
        if self.auth is not None:
            return self.auth
        return "local" if self.loopback else "required"

    def unsafe_start(self) -> str | None:
        """Why this configuration must not start, in one line; None when it may."""
        if self.auth_mode == "local" and not self.loopback:
            return (
                f"Refusing to serve {self.host} without authentication: bind 127.0.0.1, "
                "or set ROOST_AUTH=required (roost serve --auth required)"
            )
        if self.dev_mode and not self.loopback:
            return f"Refusing to serve {self.host} in dev mode: dev-login lets anyone in"
        if self.jwt_secret is not None and len(self.jwt_secret.get_secret_value()) < 32:
            return "Refusing to start: ROOST_JWT_SECRET must be at least 32 characters"
        return None

    def price_of(self, model: str | None) -> ModelPrice | None:
        """The price of a "provider/model", by that name or by the model's own."""
        if not model:
            return None
        return self.model_prices.get(model) or self.model_prices.get(model.partition("/")[2])

    @property
    def all_agents(self) -> dict[str, AgentSettings]:
        return {"assistant": DEFAULT_AGENT, **self.agents}

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.home / 'roost.db'}"

    def masked(self) -> dict[str, Any]:
        """The effective settings, with every password in a URL replaced by ``***``."""
        shown = self.model_dump(mode="json")  # SecretStr fields dump as "**********"
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
