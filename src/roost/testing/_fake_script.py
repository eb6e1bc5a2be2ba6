"""What the fake LLM answers: scripted replies, the default reply, and the plan of one answer.

A reply is a JSON-able dict (so it can be posted over HTTP); :func:`parse_reply` checks it
once, and :func:`plan_answer` turns it and the request into the tokens to send.
"""

import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import orjson

Api = Literal["openai", "anthropic"]
Finish = Literal["stop", "length", "tool_calls"]

FILLER = ("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed")
ECHO_WORDS = 8
_TOKEN = re.compile(r"\S+\s*|\s+")
_FRAGMENT = 8  # characters of tool-call arguments per streamed fragment
_REPLY_KEYS = frozenset(
    {
        "text",
        "thinking",
        "tool_calls",
        "tokens",
        "finish",
        "usage",
        "match",
        "for_model",
        "ttft_ms",
        "token_delay_ms",
        "fault",
        "retry_after",
        "fault_after_tokens",
        "model",
    }
)


@dataclass(frozen=True)
class FakeConfig:
    """Server-wide settings: the default answer's length, pacing, and the model list."""

    tokens: int = 20
    token_delay_ms: float = 0.0
    ttft_ms: float = 0.0
    models: tuple[str, ...] = ("fake-small", "fake-large")
    keep_requests: int = 50

    def updated(self, changes: Mapping[str, Any]) -> "FakeConfig":
        unknown = set(changes) - set(self.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        values = dict(changes)
        if "models" in values:
            values["models"] = tuple(str(model) for model in values["models"])
        updated = replace(self, **values)
        if updated.tokens < 0 or updated.token_delay_ms < 0 or updated.ttft_ms < 0:
            raise ValueError("tokens, token_delay_ms and ttft_ms must not be negative")
        return updated


@dataclass(frozen=True)
class ScriptedToolCall:
    name: str
    arguments: str  # JSON text, sent as is (a str in the script may be deliberately malformed)
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """One scripted reply, checked. See :class:`roost.testing.FakeLLM` for the keys."""

    text: str | None = None
    thinking: str | None = None
    tool_calls: tuple[ScriptedToolCall, ...] = ()
    tokens: int | None = None
    finish: Literal["stop", "length"] | None = None
    usage: Mapping[str, int] = field(default_factory=dict)
    match: str | None = None
    for_model: str | None = None
    ttft_ms: float | None = None
    token_delay_ms: float | None = None
    fault: int | Literal["drop", "hang"] | None = None
    retry_after: float | None = None
    fault_after_tokens: int | None = None
    model: str | None = None

    @property
    def conditional(self) -> bool:
        """Taken only by a request that meets its ``match`` or ``for_model``."""
        return self.match is not None or self.for_model is not None


def parse_reply(data: Mapping[str, Any]) -> Reply:
    """Check a scripted reply; a typo raises ValueError instead of being silently ignored."""
    if not isinstance(data, Mapping):
        raise ValueError("a reply must be a JSON object")
    unknown = set(data) - _REPLY_KEYS
    if unknown:
        raise ValueError(f"unknown reply keys: {sorted(unknown)}")
    calls = tuple(_parse_tool_call(call) for call in data.get("tool_calls") or ())
    finish = data.get("finish")
    if finish not in (None, "stop", "length"):
        raise ValueError('finish must be "stop" or "length"')
    usage = {str(key): int(value) for key, value in (data.get("usage") or {}).items()}
    return Reply(
        text=_optional_str(data, "text"),
        thinking=_optional_str(data, "thinking"),
        tool_calls=calls,
        tokens=_optional_int(data, "tokens"),
        finish=finish,
        usage=usage,
        match=_optional_str(data, "match"),
        for_model=_optional_str(data, "for_model"),
        ttft_ms=_optional_float(data, "ttft_ms"),
        token_delay_ms=_optional_float(data, "token_delay_ms"),
        fault=_parse_fault(data.get("fault")),
        retry_after=_optional_float(data, "retry_after"),
        fault_after_tokens=_optional_int(data, "fault_after_tokens"),
        model=_optional_str(data, "model"),
    )


def _parse_tool_call(call: Any) -> ScriptedToolCall:
    if not isinstance(call, Mapping) or not isinstance(call.get("name"), str):
        raise ValueError('each tool call needs a "name"')
    arguments = call.get("arguments", {})
    text = arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode()
    call_id = call.get("id")
    return ScriptedToolCall(call["name"], text, str(call_id) if call_id is not None else None)


def _parse_fault(fault: Any) -> int | Literal["drop", "hang"] | None:
    if fault is None or fault in ("drop", "hang"):
        return fault  # type: ignore[no-any-return]
    try:
        status = int(fault)
    except (TypeError, ValueError):
        raise ValueError('fault must be an HTTP error status, "drop" or "hang"') from None
    if not 400 <= status <= 599:
        raise ValueError("a fault status must be between 400 and 599")
    return status


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _optional_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return None if value is None else int(value)


def _optional_float(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    return None if value is None else float(value)


def tokenize(text: str) -> list[str]:
    """Split text into word tokens that keep their spaces, so joining them gives the text back."""
    return _TOKEN.findall(text)


def fragments(arguments: str) -> list[str]:
    """Split tool-call arguments into the small pieces a real stream sends."""
    return [arguments[i : i + _FRAGMENT] for i in range(0, len(arguments), _FRAGMENT)] or [""]


def filler(count: int, start: int = 0) -> list[str]:
    return [FILLER[i % len(FILLER)] + " " for i in range(start, start + count)]


@dataclass(frozen=True)
class PlannedToolCall:
    id: str
    name: str
    arguments: str
    fragments: list[str]


@dataclass
class Plan:
    """Everything needed to render one answer in either wire format."""

    api: Api
    id: str
    model: str
    created: int
    thinking: list[str]
    text: list[str]
    tool_calls: list[PlannedToolCall]
    finish: Finish
    input_tokens: int
    output_tokens: int
    ttft: float  # seconds
    token_delay: float  # seconds
    fault: int | Literal["drop", "hang"] | None = None
    retry_after: float | None = None
    fault_after_tokens: int | None = None

    @property
    def token_count(self) -> int:
        return (
            len(self.thinking)
            + len(self.text)
            + sum(len(call.fragments) + 1 for call in self.tool_calls)
        )


def merge_frames(pieces: Iterator[tuple[bytes, bool]]) -> Iterator[bytes]:
    """One frame per token: structure joins the next token, or the last one at the end."""
    pending = b""
    held: bytes | None = None  # held back so trailing structure can join the last token
    for data, is_token in pieces:
        if is_token:
            if held is not None:
                yield held
            held = pending + data
            pending = b""
        else:
            pending += data
    yield pending if held is None else held + pending


def request_texts(api: Api, body: Mapping[str, Any]) -> Iterator[str]:
    """Every piece of text in the request's system prompt and messages (not image data)."""
    if api == "anthropic":
        yield from _texts(body.get("system"))
    yield from _texts(body.get("messages"))


def _texts(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)
    elif isinstance(node, Mapping):
        for key in ("text", "content"):
            if key in node:
                yield from _texts(node[key])


def last_user_text(body: Mapping[str, Any]) -> str:
    """The words of the last user message that has any (tool results are skipped)."""
    for message in reversed(body.get("messages") or []):
        if not isinstance(message, Mapping) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts = [content]
        else:
            parts = [
                part["text"]
                for part in content or []
                if isinstance(part, Mapping) and part.get("type") == "text"
            ]
        text = " ".join(part for part in parts if isinstance(part, str)).strip()
        if text:
            return text
    return ""


def default_text(body: Mapping[str, Any], tokens: int) -> list[str]:
    """``Echo: <the first words of the last user message>`` then filler: ``tokens`` tokens."""
    words = last_user_text(body).split()[:ECHO_WORDS]
    echo = tokenize("Echo: " + " ".join(words) + " ")
    return (echo + filler(max(0, tokens - len(echo))))[:tokens]


def max_output(api: Api, body: Mapping[str, Any]) -> int | None:
    limit = body.get("max_tokens")
    if api == "openai":
        limit = body.get("max_completion_tokens", limit)
    return limit if isinstance(limit, int) and limit > 0 else None


def plan_answer(
    api: Api, body: Mapping[str, Any], reply: Reply | None, config: FakeConfig, serial: int
) -> Plan:
    """Turn a scripted reply (or the default one) and the request into one answer's plan."""
    reply = reply or Reply()
    thinking = tokenize(reply.thinking) if reply.thinking else []
    if reply.text is not None:
        text = tokenize(reply.text)
    elif reply.tokens is not None:
        text = filler(reply.tokens)
    elif reply.tool_calls:
        text = []
    else:
        text = default_text(body, config.tokens)
    prefix = "call_" if api == "openai" else "toolu_"
    calls = [
        PlannedToolCall(
            call.id or f"{prefix}fake{serial}_{i}",
            call.name,
            call.arguments,
            fragments(call.arguments),
        )
        for i, call in enumerate(reply.tool_calls)
    ]
    finish: Finish = "length" if reply.finish == "length" else "tool_calls" if calls else "stop"
    limit = max_output(api, body)
    if limit is not None and len(thinking) + len(text) > limit:
        text = text[: max(0, limit - len(thinking))]
        thinking = thinking[:limit]
        calls, finish = [], "length"
    ttft = reply.ttft_ms if reply.ttft_ms is not None else config.ttft_ms
    delay = reply.token_delay_ms if reply.token_delay_ms is not None else config.token_delay_ms
    plan = Plan(
        api=api,
        id=f"chatcmpl-fake{serial}" if api == "openai" else f"msg_fake{serial}",
        model=reply.model or str(body.get("model") or "fake"),
        created=int(time.time()),
        thinking=thinking,
        text=text,
        tool_calls=calls,
        finish=finish,
        input_tokens=_input_tokens(api, body, reply.usage),
        output_tokens=0,
        ttft=ttft / 1000,
        token_delay=delay / 1000,
        fault=reply.fault,
        retry_after=reply.retry_after,
        fault_after_tokens=reply.fault_after_tokens,
    )
    usage = reply.usage
    plan.output_tokens = usage.get(
        "output_tokens", usage.get("completion_tokens", plan.token_count)
    )
    return plan


def _input_tokens(api: Api, body: Mapping[str, Any], usage: Mapping[str, int]) -> int:
    """The scripted count, else the words of the request's text (a rough but stable count)."""
    scripted = usage.get("input_tokens", usage.get("prompt_tokens"))
    if scripted is not None:
        return scripted
    return max(1, sum(len(text.split()) for text in request_texts(api, body)))
