"""The adapter for OpenAI-compatible Chat Completions: OpenAI, Ollama, vLLM, llama.cpp, ….

The shared shell (``adapter.StreamingAdapter``) sends the request through the SDK and
reads the raw stream; here are the request body and the parsing of ``data:`` lines with
orjson straight into Roost's events, with no model per chunk.
"""

import secrets
from collections.abc import Mapping
from types import ModuleType
from typing import Any, ClassVar, Literal

import openai
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
from roost.engine.providers.wire import parse_arguments, upstream_message

DEFAULT_BASE_URL = "https://api.openai.com/v1"
FINISH_REASONS: dict[str, Literal["stop", "length", "tool_calls", "other"]] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
}


class OpenAICompatProvider(StreamingAdapter[openai.AsyncOpenAI]):
    """A Chat Completions endpoint; ``base_url`` None means OpenAI's own."""

    kind: Literal["openai", "anthropic"] = "openai"
    sdk: ClassVar[ModuleType] = openai
    default_base_url = DEFAULT_BASE_URL
    credential_headers = ("Authorization",)
    stream_path = "/chat/completions"

    def _connect(self, **options: Any) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(**options)

    def _body(self, request: ModelRequest) -> dict[str, Any]:
        # OpenAI's own API wants max_completion_tokens (its reasoning models refuse
        # max_tokens); compatible servers know max_tokens better.
        field = "max_completion_tokens" if "api.openai.com" in self.base_url else "max_tokens"
        return request_body(request, field)

    def _parser(self) -> "ChunkParser":
        return ChunkParser(self.id)

    async def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        """A vector for each text, from the endpoint's ``POST /embeddings``."""
        self._check_key()
        try:
            made = await self._client.embeddings.create(
                model=model, input=texts, extra_headers=self._headers
            )
        except openai.APIError as error:
            raise self.error(error) from error
        return [item.embedding for item in sorted(made.data, key=lambda item: item.index)]

    async def _models(self) -> list[ModelInfo]:
        """The live ``GET /models`` list; names are the ids."""
        return [
            ModelInfo(id=model.id, name=model.id, provider=self.id)
            async for model in self._client.models.list(extra_headers=self._headers)
        ]


class ChunkParser:
    """Turns ``chat.completion.chunk`` payloads into events; tool calls are gathered by index."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.calls: dict[int, list[Any]] = {}  # index -> [id, name, argument fragments]
        self.usage: Mapping[str, Any] | None = None
        self.reason: str | None = None
        self.done = False

    def feed(self, payload: bytes) -> list[ProviderEvent]:
        if payload == b"[DONE]":
            self.done = True
            return []
        chunk = orjson.loads(payload)
        if "error" in chunk:
            message = upstream_message(chunk) or "unknown error"
            raise ProviderError(
                f"{self.provider}: the model failed mid-stream: {message}",
                provider=self.provider,
                retryable=True,
            )
        self.usage = chunk.get("usage") or self.usage
        events: list[ProviderEvent] = []
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning:
                events.append(ThinkingDelta(reasoning))
            if delta.get("content"):
                events.append(TextDelta(delta["content"]))
            for call in delta.get("tool_calls") or ():
                self._gather(call)
            self.reason = choice.get("finish_reason") or self.reason
        return events

    def _gather(self, call: Mapping[str, Any]) -> None:
        index = call.get("index", len(self.calls))
        entry = self.calls.get(index)
        if entry is None:
            entry = self.calls[index] = [call.get("id") or f"call_{secrets.token_hex(6)}", "", []]
        function = call.get("function") or {}
        if function.get("name") and not entry[1]:
            entry[1] = function["name"]
        if function.get("arguments"):
            entry[2].append(function["arguments"])

    def finish(self) -> list[ProviderEvent]:
        """The gathered tool calls, the usage and the Finish, once the stream has ended."""
        if self.reason is None and not self.done:
            raise ProviderError(
                f"{self.provider}: the stream ended before the model finished",
                provider=self.provider,
            )
        events: list[ProviderEvent] = [
            ToolCallDone(ToolCall(call_id, name, parse_arguments("".join(pieces))))
            for call_id, name, pieces in (self.calls[index] for index in sorted(self.calls))
        ]
        if self.usage:
            prompt, completion = (
                self.usage.get("prompt_tokens"),
                self.usage.get("completion_tokens"),
            )
            events.append(UsageReport(prompt or 0, completion or 0))
        reason = FINISH_REASONS.get(self.reason or "stop", "other")
        # Some compatible servers say "stop" even when the answer is tool calls.
        events.append(Finish("tool_calls" if self.calls and reason == "stop" else reason))
        return events


def request_body(request: ModelRequest, max_tokens_field: str = "max_tokens") -> dict[str, Any]:
    """The Chat Completions request for ``request``, streamed with usage."""
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    messages.extend(_message(message) for message in request.messages)
    body: dict[str, Any] = {
        "model": request.model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.input_schema,
                },
            }
            for tool in request.tools
        ]
    if request.max_tokens is not None:
        body[max_tokens_field] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    return body


def _message(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        # Chat Completions tool messages carry text only; images in tool results are dropped.
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.role == "assistant":
        wire: dict[str, Any] = {"role": "assistant", "content": message.content or None}
        if message.tool_calls:
            wire["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {
                        "name": call.name,
                        "arguments": orjson.dumps(call.arguments).decode(),
                    },
                }
                for call in message.tool_calls
            ]
        return wire
    images = usable_images(message.images)
    if not images:
        return {"role": "user", "content": message.content}
    parts: list[dict[str, Any]] = []
    if message.content:
        parts.append({"type": "text", "text": message.content})
    parts.extend({"type": "image_url", "image_url": {"url": image_url(image)}} for image in images)
    return {"role": "user", "content": parts}


def image_url(image: Mapping[str, str]) -> str:
    """A usable image (see ``usable_images``) as a URL: its own, or a base64 data URL."""
    if "url" in image:
        return image["url"]
    return f"data:{image['media_type']};base64,{image['data']}"
