"""Which of a model's tool calls wait for the user: its questions, and the calls that need
approval (by the tool's own policy, by the server's settings, or because the agent asks
before every call) unless the user allowed the tool for the rest of the session."""

from collections.abc import Iterable

from roost.engine.providers.base import ToolCall
from roost.engine.runner import Gate, InputRequest
from roost.engine.tools.ask import ASK_USER, question_of
from roost.engine.tools.registry import Tool, ToolRegistry


def needs_approval(tool: Tool, *, requiring: Iterable[str], always: bool = False) -> bool:
    """Whether each call of ``tool`` waits for the user: by its own policy, the server's
    settings (``requiring``), or because every call does (``always``)."""
    return always or tool.requires_approval or tool.name in set(requiring)


def approval_gate(
    tools: ToolRegistry, *, requiring: Iterable[str], always: bool, allowed: Iterable[str]
) -> Gate:
    requiring, allowed = set(requiring), set(allowed)

    def gate(call: ToolCall) -> InputRequest | None:
        if call.name == ASK_USER.name:
            question, options = question_of(call.arguments)
            return InputRequest(call, "question", question, options)
        tool = tools.get(call.name)
        if tool is None or tool.name in allowed:
            return None  # unknown tools are refused when run
        if needs_approval(tool, requiring=requiring, always=always):
            return InputRequest(call, "tool_approval", f"Allow {call.name} to run?")
        return None

    return gate
