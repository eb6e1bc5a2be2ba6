"""The one small interface between Roost and any model provider.

An adapter turns Roost's :class:`ModelRequest` into its provider's wire format and
the provider's stream into :data:`ProviderEvent` values; nothing else in Roost
sees a provider type.
"""

from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ChatMessage:
    """One message of the conversation sent to the model.

    ``images`` are ``{"data": <base64>, "media_type": "image/png"}`` or ``{"url": …}``;
    an assistant message may carry ``tool_calls``; a ``tool`` message answers the
    call ``tool_call_id``.
    """

    role: Literal["user", "assistant", "tool"]
    content: str = ""
    images: list[dict[str, str]] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    is_error: bool = False


def usable_images(images: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The images a provider can read, each ``{"url"}`` or ``{"data", "media_type"}``.

    History is sent again with every turn, so a stored image with neither (or with
    values of the wrong type) is left out rather than failing every later turn."""
    usable: list[dict[str, str]] = []
    for image in images:
        url, data, media_type = image.get("url"), image.get("data"), image.get("media_type")
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            usable.append({"url": url})
        elif isinstance(data, str) and data:
            known = media_type if media_type in IMAGE_TYPES else "image/png"
            usable.append({"data": data, "media_type": str(known)})
    return usable


@dataclass(frozen=True)
class ModelRequest:
    model: str
    messages: list[ChatMessage]
    system: str | None = None
    tools: list[ToolSpec] = field(default_factory=list)
    max_tokens: int | None = None
    temperature: float | None = None


# What an adapter yields while the model streams.
@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ThinkingDelta:
    text: str


@dataclass(frozen=True)
class ToolCallDone:
    """A complete tool call: adapters gather the streamed argument fragments first."""

    call: ToolCall


@dataclass(frozen=True)
class UsageReport:
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Finish:
    """The last event of a stream. ``length`` means the answer was cut by max_tokens."""

    reason: Literal["stop", "length", "tool_calls", "other"]


ProviderEvent = TextDelta | ThinkingDelta | ToolCallDone | UsageReport | Finish


def merge_deltas(events: list[ProviderEvent]) -> list[ProviderEvent]:
    """``events`` with each run of text (or thinking) deltas joined into one.

    Adapters merge what one read of the stream brought. A model streaming at its own pace
    gives one token a read, so nothing changes; a server that has fallen behind reads
    many at once, and sends, logs and commits them as one event instead of one each: the
    busier it is, the less each token costs.
    """
    if len(events) < 2:
        return events
    merged: list[ProviderEvent] = []
    kind: type[TextDelta | ThinkingDelta] | None = None  # of the run being joined
    run: list[str] = []

    def end_run() -> None:
        if kind is not None:
            merged.append(kind("".join(run)))
            run.clear()

    for event in events:
        if isinstance(event, TextDelta | ThinkingDelta):
            if type(event) is not kind:
                end_run()
                kind = type(event)
            run.append(event.text)
        else:
            end_run()
            kind = None
            merged.append(event)
    end_run()
    return merged


@dataclass(frozen=True)
class ModelInfo:
    id: str
    name: str
    provider: str
    context_window: int | None = None
    supports_vision: bool = False
    supports_function_calling: bool = True


class ProviderError(Exception):
    """The provider failed. ``retryable`` errors may be retried before the first token."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class Provider(Protocol):
    """A configured endpoint speaking one wire protocol."""

    id: str  # the configured name, e.g. "openai" or "openai-prod"
    kind: Literal["openai", "anthropic"]

    def stream(self, request: ModelRequest) -> AsyncIterator[ProviderEvent]:
        """Stream one model call. Closing the iterator closes the upstream request."""
        ...

    async def list_models(self) -> list[ModelInfo]:
        """The models the endpoint offers (live where the protocol can tell)."""
        ...

    async def aclose(self) -> None: ...
