"""Anthropic Messages wire format for the fake LLM: stream events, messages, models, errors."""

from collections.abc import Iterator
from typing import Any

import orjson

from roost.testing._fake_script import Plan, merge_frames

dumps = orjson.dumps

STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _event(name: bytes, data: bytes) -> bytes:
    return b"event: " + name + b"\ndata: " + data + b"\n\n"


def _block_start(index: int, block: dict[str, Any]) -> bytes:
    data = {"type": "content_block_start", "index": index, "content_block": block}
    return _event(b"content_block_start", dumps(data))


def _block_stop(index: int) -> bytes:
    return _event(b"content_block_stop", b'{"type":"content_block_stop","index":%d}' % index)


def _delta_prefix(index: int, kind: bytes, field: bytes) -> bytes:
    return (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,' % index
        + b'"delta":{"type":"'
        + kind
        + b'","'
        + field
        + b'":'
    )


def signature(plan: Plan) -> str:
    return f"fake-signature-{plan.id}"


def stream_frames(plan: Plan) -> Iterator[bytes]:
    """The events of a streamed message, one frame per token."""
    return merge_frames(_pieces(plan))


def _pieces(plan: Plan) -> Iterator[tuple[bytes, bool]]:
    message: dict[str, Any] = {
        "id": plan.id,
        "type": "message",
        "role": "assistant",
        "model": plan.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**_usage(plan), "output_tokens": 1},
    }
    yield _event(b"message_start", dumps({"type": "message_start", "message": message})), False
    yield _event(b"ping", b'{"type": "ping"}'), False
    index = 0
    end = b"}}\n\n"
    if plan.thinking:
        yield _block_start(index, {"type": "thinking", "thinking": "", "signature": ""}), False
        start = _delta_prefix(index, b"thinking_delta", b"thinking")
        for token in plan.thinking:
            yield start + dumps(token) + end, True
        start = _delta_prefix(index, b"signature_delta", b"signature")
        yield start + dumps(signature(plan)) + end + _block_stop(index), False
        index += 1
    if plan.text:
        yield _block_start(index, {"type": "text", "text": ""}), False
        start = _delta_prefix(index, b"text_delta", b"text")
        for token in plan.text:
            yield start + dumps(token) + end, True
        yield _block_stop(index), False
        index += 1
    for call in plan.tool_calls:
        block = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        yield _block_start(index, block), True
        start = _delta_prefix(index, b"input_json_delta", b"partial_json")
        for piece in call.fragments:
            yield start + dumps(piece) + end, True
        yield _block_stop(index), False
        index += 1
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": STOP_REASONS[plan.finish], "stop_sequence": None},
        "usage": {"output_tokens": plan.output_tokens},
    }
    yield _event(b"message_delta", dumps(delta)), False
    yield _event(b"message_stop", b'{"type":"message_stop"}'), False


def _usage(plan: Plan) -> dict[str, int]:
    return {
        "input_tokens": plan.input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": plan.output_tokens,
    }


def message_body(plan: Plan) -> bytes:
    """A whole ``message`` object."""
    content: list[dict[str, Any]] = []
    if plan.thinking:
        thinking = "".join(plan.thinking)
        content.append({"type": "thinking", "thinking": thinking, "signature": signature(plan)})
    if plan.text:
        content.append({"type": "text", "text": "".join(plan.text)})
    for call in plan.tool_calls:
        try:
            arguments = orjson.loads(call.arguments)
        except orjson.JSONDecodeError:
            arguments = {}  # a deliberately malformed script has no non-streamed form
        content.append({"type": "tool_use", "id": call.id, "name": call.name, "input": arguments})
    return dumps(
        {
            "id": plan.id,
            "type": "message",
            "role": "assistant",
            "model": plan.model,
            "content": content,
            "stop_reason": STOP_REASONS[plan.finish],
            "stop_sequence": None,
            "usage": _usage(plan),
        }
    )


def models_body(models: tuple[str, ...]) -> bytes:
    data = [
        {
            "type": "model",
            "id": model,
            "display_name": model.replace("-", " ").title(),
            "created_at": "2025-01-01T00:00:00Z",
        }
        for model in models
    ]
    first, last = (models[0], models[-1]) if models else (None, None)
    return dumps({"data": data, "has_more": False, "first_id": first, "last_id": last})


def error_body(status: int, message: str) -> bytes:
    kind = ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return dumps({"type": "error", "error": {"type": kind, "message": message}})
