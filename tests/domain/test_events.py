"""The event models are the one source of the stream: docs, wire bytes and OpenAPI."""

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import pytest
from pydantic import ValidationError

from roost.domain.events import (
    STREAMED,
    Done,
    Error,
    Event,
    InputRequired,
    TextDelta,
    ToolResult,
    turn_event,
)
from roost.domain.turn_status import TERMINAL

DOCS = Path(__file__).parent.parent.parent / "docs/api.md"


def documented_event_types() -> list[str]:
    """The types in the table of docs/api.md's "The event stream" section, in order."""
    section = DOCS.read_text().split("### The event stream", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE)


def test_the_event_table_of_docs_api_md_names_exactly_the_models_types() -> None:
    documented = documented_event_types()
    assert sorted(set(STREAMED) - set(documented)) == [], "event types missing from docs/api.md"
    assert sorted(set(documented) - set(STREAMED)) == [], "documented types no model has"
    assert len(documented) == len(set(documented))


def test_a_missing_or_misspelt_field_cannot_be_emitted() -> None:
    with pytest.raises(ValidationError):
        TextDelta(contnet="Hel")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Done(status="completed", usage={}, iterations=1)  # type: ignore[call-arg]


def test_the_stored_payload_is_what_the_emitter_gave_in_declared_order() -> None:
    asked = InputRequired(request_id="inp_1", kind="question", prompt="Which?", tool="ask")
    assert list(asked.body()) == ["request_id", "kind", "prompt", "tool"]  # options left out
    result = ToolResult(call_id="c", tool="t", result=None, success=True, error=None, duration_ms=3)
    assert result.body()["error"] is None  # given as null, sent as null
    assert Error(code="INTERNAL_ERROR", message="The turn failed").body() == {
        "code": "INTERNAL_ERROR",
        "message": "The turn failed",
    }


def test_an_event_on_the_wire_is_the_envelope_and_its_payload() -> None:
    ts = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    event = Event("turn_1", "ses_1", 7, "text", ts, TextDelta(content="Hel").body())
    assert event.to_json() == (
        b'{"type":"text","seq":7,"turn_id":"turn_1","session_id":"ses_1",'
        b'"ts":"2025-01-02T03:04:05.000Z","content":"Hel"}'
    )
    assert turn_event.validate_json(event.to_json()).content == "Hel"
    with pytest.raises(ValidationError):
        turn_event.validate_python({**event.as_dict(), "extra": 1})


def test_done_ends_with_a_terminal_status() -> None:
    assert set(get_args(Done.model_fields["status"].annotation)) == set(TERMINAL)
