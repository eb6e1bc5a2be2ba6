"""OpenAI Chat Completions wire format for the fake LLM: chunks, completions, models, errors.

Each kind of chunk has the keys of the published samples in ``tests/engine/wire/``
(``tests/engine/test_wire_samples.py`` checks that the two agree).

Stream chunks are assembled from pre-serialised byte pieces, so a token costs one small
``orjson.dumps`` and a few concatenations.
"""

from collections.abc import Iterator
from typing import Any

import orjson

from roost.testing._fake_script import Plan, merge_frames

dumps = orjson.dumps
FINGERPRINT = "fp_roost_fake"

ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


def stream_frames(plan: Plan, include_usage: bool) -> Iterator[bytes]:
    """The ``data:`` lines of a streamed chat completion, one frame per token."""
    return merge_frames(_pieces(plan, include_usage))


def _pieces(plan: Plan, include_usage: bool) -> Iterator[tuple[bytes, bool]]:
    prefix = (
        b'data: {"id":'
        + dumps(plan.id)
        + b',"object":"chat.completion.chunk","created":'
        + str(plan.created).encode()
        + b',"model":'
        + dumps(plan.model)
        + b',"service_tier":"default","system_fingerprint":'
        + dumps(FINGERPRINT)
        + b',"choices":[{"index":0,"delta":'
    )
    # With usage asked for, every chunk carries "usage": null until the usage chunk.
    tail = b',"usage":null}\n\n' if include_usage else b"}\n\n"
    end = b'},"logprobs":null,"finish_reason":null}]' + tail
    yield prefix + b'{"role":"assistant","content":"","refusal":null' + end, False
    start = prefix + b'{"reasoning_content":'
    for token in plan.thinking:
        yield start + dumps(token) + end, True
    start = prefix + b'{"content":'
    for token in plan.text:
        yield start + dumps(token) + end, True
    for index, call in enumerate(plan.tool_calls):
        head = {"index": index, "id": call.id, "type": "function"}
        function = {"name": call.name, "arguments": ""}
        yield prefix + dumps({"tool_calls": [{**head, "function": function}]})[:-1] + end, True
        start = prefix + b'{"tool_calls":[{"index":%d,"function":{"arguments":' % index
        for piece in call.fragments:
            yield start + dumps(piece) + b"}}]" + end, True
    finish = b',"logprobs":null,"finish_reason":' + dumps(plan.finish) + b"}]" + tail
    yield prefix + b"{}" + finish, False
    if include_usage:
        yield b"data: " + dumps(_usage_chunk(plan)) + b"\n\n", False
    yield b"data: [DONE]\n\n", False


def _usage(plan: Plan) -> dict[str, Any]:
    return {
        "prompt_tokens": plan.input_tokens,
        "completion_tokens": plan.output_tokens,
        "total_tokens": plan.input_tokens + plan.output_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": len(plan.thinking),
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _usage_chunk(plan: Plan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "object": "chat.completion.chunk",
        "created": plan.created,
        "model": plan.model,
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
        "choices": [],
        "usage": _usage(plan),
    }


def completion_body(plan: Plan) -> bytes:
    """A whole ``chat.completion`` object."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(plan.text) if plan.text or not plan.tool_calls else None,
        "refusal": None,
    }
    if plan.thinking:
        message["reasoning_content"] = "".join(plan.thinking)
    if plan.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in plan.tool_calls
        ]
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": plan.finish}
    return dumps(
        {
            "id": plan.id,
            "object": "chat.completion",
            "created": plan.created,
            "model": plan.model,
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
            "choices": [choice],
            "usage": _usage(plan),
        }
    )


def models_body(models: tuple[str, ...]) -> bytes:
    data = [
        {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "roost-fake"}
        for model in models
    ]
    return dumps({"object": "list", "data": data})


def error_body(status: int, message: str) -> bytes:
    kind, code = ERROR_TYPES.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None)
    )
    return dumps({"error": {"message": message, "type": kind, "param": None, "code": code}})
