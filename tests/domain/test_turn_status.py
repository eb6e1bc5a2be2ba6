"""The turn's statuses: one table of moves, checked on every write, as documented."""

import re
from itertools import product
from pathlib import Path

import pytest

from roost.domain.turn_status import (
    ACTIVE,
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    TurnStatus,
    sources,
    transition,
)

DOCS = Path(__file__).parent.parent.parent / "docs/api.md"


@pytest.mark.parametrize(("current", "to"), list(product(TurnStatus, TurnStatus)))
def test_each_move_of_the_table_passes_and_every_other_raises(
    current: TurnStatus, to: TurnStatus
) -> None:
    if to in TRANSITIONS[current]:
        assert transition(current, to) is to
        assert current in sources(to)
    else:
        with pytest.raises(IllegalTransition):
            transition(current, to)
        assert current not in sources(to)


def test_a_new_turn_starts_queued_and_an_ended_one_never_moves() -> None:
    assert transition(None, "queued") is TurnStatus.QUEUED
    for status in set(TurnStatus) - {TurnStatus.QUEUED}:
        with pytest.raises(IllegalTransition):
            transition(None, status)
    assert all(TRANSITIONS[ended] == frozenset() for ended in TERMINAL)
    assert set(TurnStatus) == ACTIVE | TERMINAL
    assert not ACTIVE & TERMINAL


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="finished"):
        transition("running", "finished")


def test_the_statuses_docs_api_md_names_are_the_enums() -> None:
    text = DOCS.read_text()
    section = text.split("## Turns", 1)[1].split("### The event stream", 1)[0]
    line = re.search(r"^`status` goes (.+?);$", section, re.MULTILINE)
    assert line is not None, "the turn's status line is missing from docs/api.md"
    waiting = re.search(r"is `(\w+)` until answered", section)
    assert waiting is not None
    documented = set(re.findall(r"\b[a-z]+\b", line.group(1))) | {waiting.group(1)}
    assert documented == {status.value for status in TurnStatus}
