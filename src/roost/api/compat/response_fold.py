"""A turn as a response of OpenAI's Responses API, built from the turn's event log.

The stream's events and the response object come from one fold over the log, so what a
stream showed and what a later retrieve returns agree, and a replay of the log gives the
same events with the same sequence numbers: a stream resumed ``starting_after`` a number
is the rest of the very stream the client lost.

Each model call's text is a ``message`` output item, its thinking a ``reasoning`` item,
and each tool call, which Roost runs itself, an ``mcp_call`` item (the Responses API's
item for a tool run on the server side) whose output is the tool's result."""

from copy import deepcopy
from typing import Any

import orjson

from roost.api.compat.openai_shapes import model_id
from roost.domain.events import Event
from roost.store.models import Turn

# How a turn ends, as a response's status and the stream's last event.
ENDINGS = {
    "completed": ("completed", "response.completed"),
    "cancelled": ("cancelled", "response.incomplete"),
    "failed": ("failed", "response.failed"),
    "interrupted": ("failed", "response.failed"),
}
SERVER_LABEL = "roost"


def response_id(turn_id: str) -> str:
    return "resp_" + turn_id.removeprefix("turn_")


def turn_id_of(response_id: str) -> str:
    return "turn_" + response_id.removeprefix("resp_")


class ResponseFold:
    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.id = response_id(turn.id)
        self.sequence = -1
        self.output: list[dict[str, Any]] = []
        self.open: dict[str, Any] | None = None  # the message or reasoning item streaming
        self.calls: dict[str, tuple[int, dict[str, Any]]] = {}
        self.ended: str | None = None
        self.usage: dict[str, int] | None = None
        self.error: dict[str, Any] | None = None
        self.waiting: list[dict[str, Any]] = []

    def begin(self) -> list[dict[str, Any]]:
        """The stream's first events, before any of the turn's."""
        created = self.snapshot(status="in_progress")
        return [
            self._event("response.created", response=created),
            self._event("response.in_progress", response=created),
        ]

    def feed(self, event: Event) -> list[dict[str, Any]]:
        """The stream events one of the turn's events makes."""
        data = event.data
        if event.type in ("text", "thinking"):
            kind = "message" if event.type == "text" else "reasoning"
            return self._stream_into(kind, data["content"])
        if event.type == "tool_call":
            item = {
                "id": "mcp_" + data["call_id"],
                "type": "mcp_call",
                "server_label": SERVER_LABEL,
                "name": data["tool"],
                "arguments": orjson.dumps(data["args"]).decode(),
                "status": "calling",
                "output": None,
                "error": None,
            }
            events = self._close()
            self.calls[data["call_id"]] = (len(self.output), item)
            return [*events, self._added(item)]
        if event.type == "tool_result":
            return self._tool_done(data)
        if event.type == "input_required":
            self.waiting.append({k: v for k, v in data.items() if v is not None})
            return [self._event("response.in_progress", response=self.snapshot())]
        if event.type == "error":
            self.error = {"code": data["code"], "message": data["message"]}
        elif event.type == "done":
            events = self._close()
            self.ended, self.usage = data["status"], data.get("usage") or {}
            _, kind = ENDINGS[data["status"]]
            return [*events, self._event(kind, response=self.snapshot())]
        return []

    def snapshot(self, status: str | None = None) -> dict[str, Any]:
        """The response object as the events so far make it."""
        client = self.turn.options.get("client") or {}
        if status is None:
            status = self._status()
        roost: dict[str, Any] = {"session_id": self.turn.session_id, "turn_id": self.turn.id}
        if self.waiting and self.ended is None:
            roost["input_required"] = self.waiting  # answered by POST …/turns/{id}/input
        return {
            "id": self.id,
            "object": "response",
            "created_at": int(self.turn.created_at.timestamp()),
            "status": status,
            "model": model_id(self.turn.agent or ""),
            "output": deepcopy(self.output),
            "usage": self._usage(),
            "error": self.error if status == "failed" else None,
            "incomplete_details": None,
            "instructions": self.turn.options.get("instructions"),
            "previous_response_id": client.get("previous_response_id"),
            "metadata": client.get("metadata") or {},
            "background": bool(client.get("background")),
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "text": {"format": {"type": "text"}},
            "roost": roost,
        }

    def _status(self) -> str:
        if self.ended is not None:
            return ENDINGS[self.ended][0]
        if self.turn.status == "queued" and not self.output:
            return "queued"
        return "in_progress"

    def _usage(self) -> dict[str, Any] | None:
        if self.usage is None:
            return None
        given, made = self.usage.get("input_tokens", 0), self.usage.get("output_tokens", 0)
        return {
            "input_tokens": given,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": made,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": given + made,
        }

    def _stream_into(self, kind: str, delta: str) -> list[dict[str, Any]]:
        events = [] if self.open and self.open["type"] == kind else self._open(kind)
        assert self.open is not None
        index = len(self.output) - 1
        part = self.open["content"][0]
        part["text"] += delta
        where = {"item_id": self.open["id"], "output_index": index, "content_index": 0}
        if kind == "message":
            delta_event = self._event(
                "response.output_text.delta", **where, delta=delta, logprobs=[]
            )
        else:
            delta_event = self._event("response.reasoning_text.delta", **where, delta=delta)
        return [*events, delta_event]

    def _open(self, kind: str) -> list[dict[str, Any]]:
        events = self._close()
        index = len(self.output)
        suffix = f"{self.turn.id.removeprefix('turn_')}_{index}"
        if kind == "message":
            item: dict[str, Any] = {
                "id": "msg_" + suffix,
                "type": "message",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            }
            part = {"type": "output_text", "text": "", "annotations": []}
        else:
            item = {"id": "rs_" + suffix, "type": "reasoning", "summary": [], "content": []}
            part = {"type": "reasoning_text", "text": ""}
        events.append(self._added(item))
        item["content"].append(part)
        if kind == "message":
            where = {"item_id": item["id"], "output_index": index, "content_index": 0}
            events.append(self._event("response.content_part.added", **where, part=part))
        self.open = item
        return events

    def _close(self) -> list[dict[str, Any]]:
        item, self.open = self.open, None
        if item is None:
            return []
        index = len(self.output) - 1
        part = item["content"][0]
        where = {"item_id": item["id"], "output_index": index, "content_index": 0}
        if item["type"] == "message":
            item["status"] = "completed"
            text = self._event("response.output_text.done", **where, text=part["text"], logprobs=[])
            done = [text, self._event("response.content_part.done", **where, part=part)]
        else:
            done = [self._event("response.reasoning_text.done", **where, text=part["text"])]
        return [*done, self._event("response.output_item.done", output_index=index, item=item)]

    def _tool_done(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        found = self.calls.get(data["call_id"])
        if found is None:
            return []
        index, item = found
        result = data.get("result")
        item["output"] = result if isinstance(result, str) else orjson.dumps(result).decode()
        item["status"] = "completed" if data.get("success") else "failed"
        if not data.get("success"):
            text = data.get("error") or item["output"]
            item["error"] = {
                "type": "mcp_tool_execution_error",
                "content": [{"type": "text", "text": text}],
            }
        return [self._event("response.output_item.done", output_index=index, item=item)]

    def _added(self, item: dict[str, Any]) -> dict[str, Any]:
        self.output.append(item)
        index = len(self.output) - 1
        return self._event("response.output_item.added", output_index=index, item=item)

    def _event(self, kind: str, **fields: Any) -> dict[str, Any]:
        """An event as it is sent, its objects copied: the fold goes on changing them."""
        self.sequence += 1
        return {"type": kind, "sequence_number": self.sequence, **deepcopy(fields)}
