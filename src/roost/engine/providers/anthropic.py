"""The adapter for Anthropic's Messages API and Anthropic-compatible base URLs.

As for OpenAI, the shared shell (``adapter.StreamingAdapter``) sends the request and reads
the raw stream; here are the request body and the parsing of the stream's events with
orjson. A tool call is complete at its block's ``content_block_stop``.
"""

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any, ClassVar, Literal

import anthropic
import orjson

from roost.engine.providers.adapter import StreamingAdapter
from roost.engine.providers.base import (
    ChatMessage,
    Finish,
    ModelInfo,
    ModelRequest,
    ProviderError,
    ProviderEvent,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolCallDone,
    UsageReport,
    usable_images,
)
from roost.engine.providers.wire import parse_arguments

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_MAX_TOKENS = 4096  # the API requires max_tokens
STOP_REASONS: dict[str, Literal["stop", "length", "tool_calls", "other"]] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
}
STREAM_ERROR_STATUSES = {"overloaded_error": 529, "api_error": 500, "rate_limit_error": 429}


class AnthropicProvider(StreamingAdapter[anthropic.AsyncAnthropic]):
    """A Messages API endpoint; ``base_url`` None means Anthropic's own."""

    kind: Literal["openai", "anthropic"] = "anthropic"
    sdk: ClassVar[ModuleType] = anthropic
    default_base_url = DEFAULT_BASE_URL
    credential_headers = ("Authorization", "X-Api-Key")
    stream_path = "/v1/messages"

    def _connect(self, **options: Any) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(**options)

    def _body(self, request: ModelRequest) -> dict[str, Any]:
        return request_body(request)

    def _parser(self) -> "EventParser":
        return EventParser(self.id)

    async def _models(self) -> list[ModelInfo]:
        """The live list; empty when an Anthropic-compatible server has no such endpoint."""
        try:
            return [
                ModelInfo(
                    id=model.id,
                    name=model.display_name or model.id,
                    provider=self.id,
                    context_window=model.max_input_tokens,
                    supports_vision=bool(
                        model.capabilities and model.capabilities.image_input.supported
                    ),
                )
                async for model in self._client.models.list(extra_headers=self._headers)
                if model.lifecycle != "retired"
            ]
        except anthropic.APIStatusError as error:
            if error.status_code in (401, 403):
                raise
            return []


class EventParser:
    """Turns Messages stream events into Roost's events."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.tools: dict[int, tuple[str, str, list[str]]] = {}  # block index -> id, name, json
        self.input_tokens = 0
        self.output_tokens = 0
        self.reason: str | None = None
        self.done = False

    def feed(self, payload: bytes) -> list[ProviderEvent]:
        event = orjson.loads(payload)
        kind = event.get("type")
        if kind == "content_block_delta":
            delta = event["delta"]
            if delta.get("type") == "text_delta" and delta.get("text"):
                return [TextDelta(delta["text"])]
            if delta.get("type") == "thinking_delta" and delta.get("thinking"):
                return [ThinkingDelta(delta["thinking"])]
            if delta.get("type") == "input_json_delta" and event.get("index") in self.tools:
                self.tools[event["index"]][2].append(delta.get("partial_json") or "")
            return []
        if kind == "content_block_start":
            return self._block_start(event.get("index"), event.get("content_block") or {})
        if kind == "content_block_stop":
            tool = self.tools.pop(event.get("index"), None)
            if tool is None:
                return []
            return [ToolCallDone(ToolCall(tool[0], tool[1], parse_arguments("".join(tool[2]))))]
        if kind == "message_start":
            self._count(event.get("message", {}).get("usage") or {})
        elif kind == "message_delta":
            self.reason = (event.get("delta") or {}).get("stop_reason") or self.reason
            self._count(event.get("usage") or {})
        elif kind == "message_stop":
            self.done = True
        elif kind == "error":
            raise self._failure(event.get("error") or {})
        return []

    def _block_start(self, index: int, block: Mapping[str, Any]) -> list[ProviderEvent]:
        kind = block.get("type")
        if kind == "tool_use":
            # The input arrives as input_json_delta fragments; a non-streaming-style
            # server may put it whole in the start block instead.
            given = block.get("input")
            pieces = [orjson.dumps(given).decode()] if given else []
            self.tools[index] = (block.get("id") or f"toolu_{index}", block.get("name", ""), pieces)
        elif kind == "text" and block.get("text"):
            return [TextDelta(block["text"])]
        elif kind == "thinking" and block.get("thinking"):
            return [ThinkingDelta(block["thinking"])]
        return []

    def _count(self, usage: Mapping[str, Any]) -> None:
        """Usage counts are running totals; the input includes cached prompt tokens."""
        if usage.get("input_tokens") is not None:
            self.input_tokens = (
                usage["input_tokens"]
                + (usage.get("cache_creation_input_tokens") or 0)
                + (usage.get("cache_read_input_tokens") or 0)
            )
        if usage.get("output_tokens") is not None:
            self.output_tokens = usage["output_tokens"]

    def _failure(self, error: Mapping[str, Any]) -> ProviderError:
        kind = error.get("type", "error")
        status = STREAM_ERROR_STATUSES.get(kind)
        return ProviderError(
            f"{self.provider}: the model failed mid-stream: {kind}: {error.get('message', '')}",
            provider=self.provider,
            status=status,
            retryable=status is not None,
        )

    def finish(self) -> list[ProviderEvent]:
        if not self.done and self.reason is None:
            raise ProviderError(
                f"{self.provider}: the stream ended before the model finished",
                provider=self.provider,
            )
        return [
            UsageReport(self.input_tokens, self.output_tokens),
            Finish(STOP_REASONS.get(self.reason or "end_turn", "other")),
        ]


def request_body(request: ModelRequest) -> dict[str, Any]:
    """The Messages API request for ``request``, streamed (``temperature`` is not sent)."""
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        "messages": wire_messages(request.messages),
        "stream": True,
    }
    if request.system:
        body["system"] = request.system
    if request.tools:
        body["tools"] = [
            {"name": tool.name, "description": tool.description, "input_schema": tool.input_schema}
            for tool in request.tools
        ]
    # No temperature: the Messages API this SDK speaks has no such parameter any more.
    return body


def wire_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """Messages as content blocks; tool results become user turns, same-role turns merge."""
    wire: list[dict[str, Any]] = []
    for message in messages:
        role, blocks = _blocks(message)
        if not blocks:
            continue  # the API refuses empty turns
        if wire and wire[-1]["role"] == role:
            wire[-1]["content"].extend(blocks)
        else:
            wire.append({"role": role, "content": blocks})
    return wire


def _blocks(message: ChatMessage) -> tuple[str, list[dict[str, Any]]]:
    if message.role == "tool":
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
        if images := usable_images(message.images):
            text = [{"type": "text", "text": message.content}] if message.content else []
            result["content"] = text + [image_block(image) for image in images]
        elif message.content:
            result["content"] = message.content
        if message.is_error:
            result["is_error"] = True
        return "user", [result]
    # Images go before the text, as Anthropic recommends.
    blocks = [image_block(image) for image in usable_images(message.images)]
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    blocks += [
        {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
        for call in message.tool_calls
    ]
    return message.role, blocks


def image_block(image: Mapping[str, str]) -> dict[str, Any]:
    """A usable image (see ``usable_images``) as a content block."""
    if "url" in image:
        return {"type": "image", "source": {"type": "url", "url": image["url"]}}
    source = {"type": "base64", "media_type": image["media_type"]}
    return {"type": "image", "source": {**source, "data": image["data"]}}
