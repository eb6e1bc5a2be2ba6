"""From stored messages to what the model is sent: the conversation within its window."""

from collections.abc import Sequence

from roost.engine.providers.base import ChatMessage, ToolCall
from roost.store.models import Message

CHARS_PER_TOKEN = 4  # a rough, provider-free estimate; keeps the window check cheap
WINDOW_SHARE = 0.75  # the rest of the window is left for the answer and tool output


def estimate_tokens(message: Message) -> int:
    return len(message.content) // CHARS_PER_TOKEN + 4


def to_chat(messages: Sequence[Message]) -> tuple[list[ChatMessage], list[str]]:
    """Chat messages for the model, and the text of summaries (which join the system prompt)."""
    chat: list[ChatMessage] = []
    summaries: list[str] = []
    for message in messages:
        if message.role == "system":
            summaries.append(message.content)
        elif message.role == "user":
            # Only the shape is checked here; the adapters leave out what they cannot send.
            images = [
                {k: v for k, v in part.items() if k in ("data", "media_type", "url")}
                for part in message.parts or []
                if isinstance(part, dict) and part.get("type") == "image"
            ]
            chat.append(ChatMessage("user", message.content, images=images))
        elif message.role == "assistant":
            calls = _calls(message)
            if message.content or calls:
                chat.append(ChatMessage("assistant", message.content, tool_calls=calls))
        elif message.role == "tool":
            chat.append(_tool_message(message))
    return _drop_orphans(chat), summaries


def split_waiting(
    messages: Sequence[Message], turn_id: str
) -> tuple[list[Message], ChatMessage, list[ChatMessage]] | None:
    """For a turn that waited on the user: the history before its last answer, that
    answer with every call it made, and the results already in (none of which may be
    dropped as orphans, since the rest of the results come now)."""
    for index in range(len(messages) - 1, -1, -1):
        answer = messages[index]
        if answer.turn_id == turn_id and answer.role == "assistant":
            calls = _calls(answer)
            if not calls:
                return None
            results = [m for m in messages[index + 1 :] if m.role == "tool"]
            chat = [_tool_message(m) for m in results]
            return (
                list(messages[:index]),
                ChatMessage("assistant", answer.content, tool_calls=calls),
                chat,
            )
    return None


def _calls(message: Message) -> list[ToolCall]:
    return [
        ToolCall(part["call_id"], part["tool"], part.get("args") or {})
        for part in message.parts or []
        if part.get("type") == "tool_call"
    ]


def _tool_message(message: Message) -> ChatMessage:
    result = next((p for p in message.parts or [] if p.get("type") == "tool_result"), {})
    return ChatMessage(
        "tool",
        message.content,
        tool_call_id=result.get("call_id"),
        is_error=not result.get("success", True),
    )


def since_summary(messages: Sequence[Message]) -> tuple[Message | None, list[Message]]:
    """The newest compaction summary, and the messages it does not cover."""
    summary = next(
        (m for m in reversed(messages) if m.role == "system" and summarised_until(m)), None
    )
    if summary is None:
        return None, [m for m in messages if m.role != "system"]
    until = summarised_until(summary) or ""
    return summary, [m for m in messages if m.role != "system" and m.id > until]


def summarised_until(message: Message) -> str | None:
    for part in message.parts or []:
        if part.get("type") == "summary":
            return str(part.get("until") or "")
    return None


def within_window(messages: Sequence[Message], window_tokens: int) -> tuple[list[Message], bool]:
    """The summary and the newest messages that fit the history's share of the window,
    starting at a user message so that no tool result loses its call; and whether
    older messages had to be left out."""
    summary, rest = since_summary(messages)
    budget = int(window_tokens * WINDOW_SHARE) - (estimate_tokens(summary) if summary else 0)
    kept: list[Message] = []
    for message in reversed(rest):
        budget -= estimate_tokens(message)
        if budget < 0 and kept:
            break
        kept.append(message)
    kept.reverse()
    while len(kept) > 1 and kept[0].role != "user":
        kept.pop(0)
    left_out = len(kept) < len(rest)
    return ([summary] if summary else []) + kept, left_out


def _drop_orphans(chat: list[ChatMessage]) -> list[ChatMessage]:
    """Providers refuse a tool result without its call, and a call without its result."""
    answered = {m.tool_call_id for m in chat if m.role == "tool"}
    called = {c.id for m in chat for c in m.tool_calls}
    cleaned: list[ChatMessage] = []
    for message in chat:
        if message.role == "tool" and message.tool_call_id not in called:
            continue
        if message.tool_calls and not all(c.id in answered for c in message.tool_calls):
            message = ChatMessage("assistant", message.content)
            if not message.content:
                continue
        cleaned.append(message)
    return cleaned
