"""Pieces of the wire formats that both protocols share: SSE lines, tool arguments,
error bodies."""

from collections.abc import Mapping
from typing import Any

import orjson

# A tool call whose arguments are not a JSON object arrives as {RAW_ARGUMENTS_KEY: "<text>"},
# so the runner can tell the model its call was malformed instead of running it with {}.
RAW_ARGUMENTS_KEY = "__raw_arguments__"


class SseLines:
    """Splits a Server-Sent Events body into the payloads of its ``data:`` lines.

    Each line is taken as one event: LLM streams never spread an event over several lines.
    """

    __slots__ = ("rest",)

    def __init__(self) -> None:
        self.rest = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        lines = (self.rest + chunk).split(b"\n") if self.rest else chunk.split(b"\n")
        self.rest = lines.pop()
        return [line[5:].strip() for line in lines if line.startswith(b"data:")]


def parse_arguments(text: str) -> dict[str, Any]:
    """Tool-call arguments as a dict; see RAW_ARGUMENTS_KEY for those that are not one."""
    if not text.strip():
        return {}
    try:
        arguments = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {RAW_ARGUMENTS_KEY: text}
    return arguments if isinstance(arguments, dict) else {RAW_ARGUMENTS_KEY: text}


def upstream_message(body: object) -> str | None:
    """The human message inside a provider's error body, whichever shape it has."""
    inner = body.get("error", body) if isinstance(body, Mapping) else body
    if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
        return str(inner["message"])
    return inner[:300] if isinstance(inner, str) and inner else None
