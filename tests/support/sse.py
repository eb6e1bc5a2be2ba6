"""Reading Server-Sent Events in tests, the way a client would."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from roost.domain.events import turn_event


@dataclass(frozen=True)
class Frame:
    id: int | None
    event: str
    data: dict[str, Any]


def parse(text: str, *, turn_events: bool = True) -> list[Frame]:
    """The frames of a stream; ``turn_events``: each checked to be a turn's event."""
    frames = []
    for block in text.split("\n\n"):
        if block.strip():
            frames.append(_frame(block.split("\n"), checked=turn_events))
    return frames


async def frames(response: httpx.Response) -> AsyncIterator[Frame]:
    lines: list[str] = []
    async for line in response.aiter_lines():
        if line:
            lines.append(line)
        elif lines:
            yield _frame(lines)
            lines = []


def _frame(lines: list[str], *, checked: bool = True) -> Frame:
    fields: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(": ")
        fields[name] = value
    frame = Frame(
        int(fields["id"]) if "id" in fields else None,
        fields.get("event", "message"),
        json.loads(fields.get("data", "{}")),
    )
    if checked:
        _check(frame)
    return frame


def _check(frame: Frame) -> None:
    """Every frame a test reads is an event of the models, exactly (no field missing,
    none more, strict types), named by its type, with its seq as id (none on a heartbeat)."""
    event = turn_event.validate_python(frame.data, strict=True)
    assert frame.event == event.type
    assert frame.id == (None if event.type == "heartbeat" else event.seq)


def assert_well_formed(events: list[Frame]) -> None:
    """A whole turn: gap-free seq from 1 as ids, turn_start first, usage then done last."""
    logged = [e for e in events if e.event != "heartbeat"]
    assert [e.id for e in logged] == list(range(1, len(logged) + 1))
    assert all(e.data["seq"] == e.id and e.data["type"] == e.event for e in logged)
    assert logged[0].event == "turn_start"
    assert logged[-1].event == "done"
    assert "usage" in [e.event for e in logged[-3:]]
