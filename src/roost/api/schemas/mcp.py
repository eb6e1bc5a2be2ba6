"""The MCP servers whose tools agents may call: what an admin sends and what is shown."""

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StringConstraints

from roost.api.schemas.common import ClientModel, NoNul, Timestamp
from roost.config import mask_url_password
from roost.engine.tools.mcp import McpStatus
from roost.services.caller import Caller
from roost.services.mcp import McpServerView


def _no_double_underscore(value: str) -> str:
    if "__" in value:
        raise ValueError("must not contain '__', which separates server and tool in tool names")
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL")
    return value


ServerName = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=40, pattern=r"^[a-zA-Z0-9_-]+$"),
    AfterValidator(_no_double_underscore),
]
Command = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=4096), NoNul]
Arg = Annotated[str, StringConstraints(strict=True, max_length=4096), NoNul]
Url = Annotated[
    str,
    StringConstraints(strict=True, max_length=4096, strip_whitespace=True),
    AfterValidator(_http_url),
]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
EnvValue = Annotated[str, StringConstraints(strict=True, max_length=8192), NoNul]
HeaderName = Annotated[str, StringConstraints(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")]
HeaderValue = Annotated[
    str, StringConstraints(strict=True, max_length=8192, pattern=r"^[^\r\n\x00]*$")
]
MAX_ITEMS = 100


class McpServerIn(ClientModel):
    name: ServerName
    transport: Literal["stdio", "http"]
    command: Command | None = Field(None, description="stdio: the program to start.")
    args: list[Arg] = Field(default_factory=list, max_length=MAX_ITEMS)
    env: dict[EnvName, EnvValue] = Field(
        default_factory=dict, max_length=MAX_ITEMS, description="stdio: secret variables."
    )
    url: Url | None = Field(None, description="http: the streamable HTTP endpoint.")
    headers: dict[HeaderName, HeaderValue] = Field(
        default_factory=dict, max_length=MAX_ITEMS, description="http: secret headers."
    )
    enabled: StrictBool = True
    requires_approval: StrictBool = False


class McpServerChange(ClientModel):
    """PATCH: only the fields sent change; in ``env`` and ``headers`` a key sent as null
    is removed and the others are kept (``env: null`` removes them all)."""

    name: ServerName | None = None
    transport: Literal["stdio", "http"] | None = None
    command: Command | None = None
    args: list[Arg] | None = Field(None, max_length=MAX_ITEMS)
    env: dict[EnvName, EnvValue | None] | None = Field(None, max_length=MAX_ITEMS)
    url: Url | None = None
    headers: dict[HeaderName, HeaderValue | None] | None = Field(None, max_length=MAX_ITEMS)
    enabled: StrictBool | None = None
    requires_approval: StrictBool | None = None


class McpStatusOut(BaseModel):
    state: Literal["stopped", "starting", "running", "failed"]
    last_error: str | None
    tool_count: int
    pid: int | None = Field(description="The stdio server's process, while it runs.")
    started_at: Timestamp | None

    @classmethod
    def of(cls, status: McpStatus) -> "McpStatusOut":
        return cls(
            state=status.state,
            last_error=status.last_error,
            tool_count=status.tool_count,
            pid=status.pid,
            started_at=status.started_at,
        )


class McpServerOut(BaseModel):
    id: str
    name: str
    transport: str
    command: str | None
    args: list[str]
    env: dict[str, str] = Field(description="Variable names, each with a preview of its value.")
    url: str | None
    headers: dict[str, str] = Field(description="Header names, each with a preview.")
    enabled: bool
    requires_approval: bool
    status: McpStatusOut
    created_by: str | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, view: McpServerView, caller: Caller) -> "McpServerOut":
        """How a server is reached (its command, arguments, URL, the names of its
        variables and headers) is for admins: arguments and URLs often carry credentials."""
        server = view.server
        shown = caller.acts_as_admin
        return cls(
            id=server.id,
            name=server.name,
            transport=server.transport,
            command=server.command if shown else None,
            args=list(server.args or []) if shown else [],
            env=view.env if shown else {},
            url=mask_url_password(server.url) if server.url and shown else None,
            headers=view.headers if shown else {},
            enabled=server.enabled,
            requires_approval=server.requires_approval,
            status=McpStatusOut.of(view.status),
            created_by=server.created_by,
            created_at=server.created_at,
            updated_at=server.updated_at,
        )


class McpServersOut(BaseModel):
    servers: list[McpServerOut]
    data: list[McpServerOut]
    has_more: bool
    next_cursor: str | None
