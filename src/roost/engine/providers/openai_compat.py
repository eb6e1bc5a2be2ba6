"""The adapter for OpenAI-compatible Chat Completions: OpenAI, Ollama, vLLM, llama.cpp, ….

The SDK sends the request (auth, base URL, typed errors); the stream's raw ``data:``
lines are parsed with orjson straight into Roost's events, with no model per chunk.
"""

import secrets
from collections.abc import AsyncGenerator, Mapping
from typing import Any, Literal

import httpx2
import openai
import orjson

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
from roost.engine.providers.retry import cut_error, sdk_error
from roost.engine.providers.wire import SseLines, parse_arguments, upstream_message

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_PLACEHOLDER_KEY = "unused"  # the SDK insists on a key; without one the header is omitted
FINISH_REASONS: dict[str, Literal["stop", "length", "tool_calls", "other"]] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
}


class OpenAICompatProvider:
    """A Chat Completions endpoint; ``base_url`` None means OpenAI's own."""

    kind: Literal["openai", "anthropic"] = "openai"

    def __init__(
        self,
        id: str,
        *,
        base_url: str | None,
        api_key: str | None,
        timeout: float = 600,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.id = id
        self.base_url = base_url or DEFAULT_BASE_URL
        self.timeout = timeout
        self._has_key = bool(api_key)
        self._headers: dict[str, Any] = {} if api_key else {"Authorization": openai.Omit()}
        # OpenAI's own API wants max_completion_tokens (its reasoning models refuse
        # max_tokens); compatible servers know max_tokens better.
        self._max_tokens_field = (
            "max_completion_tokens" if "api.openai.com" in self.base_url else "max_tokens"
        )
        self._client = openai.AsyncOpenAI(
            api_key=api_key or _PLACEHOLDER_KEY,
            base_url=self.base_url,
            timeout=httpx2.Timeout(timeout, connect=min(timeout, 10.0)),
            max_retries=0,
            default_headers=default_headers,
        )

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ProviderEvent, None]:
        """Stream one call; closing the generator closes the HTTP response at once."""
        body = request_body(request, self._max_tokens_field)
        lines = SseLines()
        parser = ChunkParser(self.id)
        started = False
        try:
            async with self._client.chat.completions.with_streaming_response.create(
                **body, extra_headers=self._headers
            ) as response:
                async for chunk in response.iter_bytes():
                    for payload in lines.feed(chunk):
                        for event in parser.feed(payload):
                            started = True
                            yield event
            for event in parser.finish():
                yield event
        except openai.APIError as error:
            raise self._error(error) from error
        except httpx2.RequestError as error:
            raise cut_error(self.id, error, started=started, timeout=self.timeout) from error

    async def list_models(self) -> list[ModelInfo]:
        """The live ``GET /models`` list; names are the ids."""
        try:
            return [
                ModelInfo(id=model.id, name=model.id, provider=self.id)
                async for model in self._client.models.list(extra_headers=self._headers)
            ]
        except openai.APIError as error:
            raise self._error(error) from error

    async def aclose(self) -> None:
        await self._client.close()

    def _error(self, error: openai.APIError) -> ProviderError:
        return sdk_error(
            openai,
            error,
            provider=self.id,
            base_url=self.base_url,
            timeout=self.timeout,
            has_key=self._has_key,
        )


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
