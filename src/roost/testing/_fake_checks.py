"""The request rules a real provider enforces and an adapter gets wrong most easily.

Each check returns the 400 message the provider would send, or None. The fake is a little
stricter than today's Anthropic API (which merges consecutive same-role turns) on purpose:
an adapter that relies on that leniency is caught here.
"""

from collections.abc import Mapping
from typing import Any

from roost.testing._fake_script import Api


def check_request(api: Api, body: Mapping[str, Any]) -> str | None:
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    if not all(isinstance(message, Mapping) for message in messages):
        return "messages: each message must be an object"
    if api == "openai":
        return _check_openai(messages)
    return _check_anthropic(body, messages)


def _check_openai(messages: list[Mapping[str, Any]]) -> str | None:
    called: set[Any] = set()
    for i, message in enumerate(messages):
        role = message.get("role")
        if role not in ("system", "developer", "user", "assistant", "tool"):
            return f"messages[{i}].role: invalid value {role!r}"
        for call in message.get("tool_calls") or []:
            if not isinstance(call, Mapping):
                return f"messages[{i}].tool_calls: each call must be an object"
            called.add(call.get("id"))
            if call.get("type") != "function" or not isinstance(call.get("function"), Mapping):
                return f"messages[{i}].tool_calls: each call needs type 'function' and a function"
            if not isinstance(call["function"].get("arguments"), str):
                return f"messages[{i}].tool_calls: function.arguments must be a string"
        if role == "tool" and message.get("tool_call_id") not in called:
            return (
                f"messages[{i}]: messages with role 'tool' must be a response to a preceding "
                "message with 'tool_calls'"
            )
    return None


def _check_anthropic(body: Mapping[str, Any], messages: list[Mapping[str, Any]]) -> str | None:
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    previous_role = None
    tool_uses: set[Any] = set()
    for i, message in enumerate(messages):
        role = message.get("role")
        if role not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        if role == previous_role:
            return "messages: roles must alternate between 'user' and 'assistant'"
        previous_role = role
        content = message.get("content")
        blocks = content if isinstance(content, list) else []
        if isinstance(content, str) and not content and i < len(messages) - 1:
            return f"messages.{i}: all messages must have non-empty content"
        for j, block in enumerate(blocks):
            kind = block.get("type") if isinstance(block, Mapping) else None
            if kind == "text" and not block.get("text"):
                return f"messages.{i}.content.{j}.text: text content blocks must be non-empty"
            if kind == "tool_result" and block.get("tool_use_id") not in tool_uses:
                return (
                    f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` "
                    "blocks. Each `tool_result` block must have a corresponding `tool_use` block "
                    "in the previous message."
                )
        tool_uses = {
            block.get("id")
            for block in blocks
            if isinstance(block, Mapping) and block.get("type") == "tool_use"
        }
    return None
