"""Many turns at once through a real HTTP server: every stream whole and in order with its
own answer, every answer stored and replayed as streamed; with queued turns (``on_busy:
enqueue``) run one after another and cancelled turns ending ``cancelled`` among them.

Correctness only: the fake paces its tokens so that the streams overlap, and every wait is
bounded, but nothing here asserts how long anything took."""

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

import httpx

from roost.testing import FakeLLM
from tests.support.sse import Frame, frames, parse

SESSIONS = 40
TOKEN_DELAY_MS = 15  # small, so that forty streams are under way at the same time
WITHIN = 30.0  # seconds a whole load may take before the test fails instead of hanging
WORDS = ("amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "heron", "iris")


def prompt(session: int, turn: int) -> str:
    """A message that names its session and turn, for the fake's ``match``."""
    return f"<prompt-{session:02d}-{turn}> please answer"


def answer(session: int, turn: int, words: int) -> str:
    """The answer scripted for that message: its own text, a word per token."""
    chosen = [WORDS[(session * 7 + turn * 3 + i) % len(WORDS)] for i in range(words)]
    return f"Answer {session}.{turn}: " + " ".join(chosen) + "."


@dataclass
class Planned:
    """One turn of the load: what is sent, what the fake answers, and how it should end."""

    session: int
    turn: int
    text: str
    on_busy: str = "reject"
    cancel_after: int | None = None  # cancel the session's turn once this many texts came
    frames: list[Frame] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)  # turn ids the cancel answered

    @property
    def content(self) -> str:
        return prompt(self.session, self.turn)

    @property
    def status(self) -> str:
        return "completed" if self.cancel_after is None else "cancelled"

    @property
    def turn_id(self) -> str:
        return str(self.frames[0].data["turn_id"])

    @property
    def streamed(self) -> str:
        return "".join(f.data["content"] for f in self.frames if f.event == "text")

    def reply(self) -> dict[str, Any]:
        return {"match": f"<prompt-{self.session:02d}-{self.turn}>", "text": self.text}


async def stream(
    client: httpx.AsyncClient, sid: str, turn: Planned, opened: asyncio.Event | None = None
) -> None:
    """Send the turn's message asking for its event stream and read the stream to its end;
    ``opened`` is set once the server answered, that is once the turn exists."""
    body = {"content": turn.content, "on_busy": turn.on_busy}
    headers = {"Accept": "text/event-stream"}
    url = f"/api/sessions/{sid}/messages"
    async with client.stream("POST", url, json=body, headers=headers) as response:
        if response.status_code != 200:
            raise AssertionError(f"{response.status_code}: {(await response.aread())!r}")
        assert response.headers["content-type"].startswith("text/event-stream")
        if opened is not None:
            opened.set()
        texts = 0
        async for frame in frames(response):
            turn.frames.append(frame)
            texts += frame.event == "text"
            if texts == turn.cancel_after and not turn.cancelled:
                cancel = await client.delete(f"/api/sessions/{sid}/current-turn")
                assert cancel.status_code == 200, cancel.text
                turn.cancelled = [t["id"] for t in cancel.json()["cancelled"]] or ["(none)"]


async def run_session(client: httpx.AsyncClient, sid: str, turns: list[Planned]) -> None:
    """The session's turns, each sent once the one before it exists, all read at once."""
    async with asyncio.TaskGroup() as group:
        for turn in turns:
            opened = asyncio.Event()
            group.create_task(stream(client, sid, turn, opened))
            await opened.wait()


def loaded_client(url: str) -> httpx.AsyncClient:
    """One client with a connection for every stream of the load at once."""
    limits = httpx.Limits(max_connections=4 * SESSIONS, max_keepalive_connections=4 * SESSIONS)
    return httpx.AsyncClient(base_url=url, timeout=30, limits=limits)


async def run_load(
    client: httpx.AsyncClient, fake_llm: FakeLLM, plan: dict[int, list[Planned]]
) -> dict[int, str]:
    """Script the fake, make the sessions, then run every session's turns together."""
    fake_llm.configure(token_delay_ms=TOKEN_DELAY_MS)
    fake_llm.add_replies(*(turn.reply() for turns in plan.values() for turn in turns))
    sids: dict[int, str] = {}
    for session in plan:
        created = await client.post("/api/sessions", json={})
        assert created.status_code == 201, created.text
        sids[session] = str(created.json()["id"])
    try:
        async with asyncio.timeout(WITHIN), asyncio.TaskGroup() as group:
            for session, turns in plan.items():
                group.create_task(run_session(client, sids[session], turns))
    except TimeoutError:
        raise AssertionError(f"streams still open after {WITHIN:.0f} s: {unended(plan)}") from None
    return sids


def unended(plan: dict[int, list[Planned]]) -> list[str]:
    """The turns whose stream had not reached done, each with its last events."""
    return [
        f"{turn.content} after {[f.event for f in turn.frames][-3:]}"
        for turns in plan.values()
        for turn in turns
        if not turn.frames or turn.frames[-1].event != "done"
    ]


def check_stream(sid: str, turn: Planned) -> None:
    """Gap-free seq from 1, turn_start first, done last and only there, all of one turn,
    and the text the fake sent (the whole of it, or for a cancelled turn a part of it)."""
    seen = turn.frames
    assert seen, f"no events for {turn.content}"
    logged = [f for f in seen if f.event != "heartbeat"]
    assert [f.id for f in logged] == list(range(1, len(logged) + 1)), turn.content
    assert logged[0].event == "turn_start"
    assert seen[-1].event == "done", f"{turn.content} ended with {seen[-1].event}"
    assert [f.event for f in logged].count("done") == 1
    assert seen[-1].data["status"] == turn.status, (turn.content, seen[-1].data)
    assert {(f.data["turn_id"], f.data["session_id"]) for f in logged} == {(turn.turn_id, sid)}
    if turn.cancel_after is None:
        assert turn.streamed == turn.text
    else:
        assert turn.cancelled == [turn.turn_id]
        assert turn.text.startswith(turn.streamed) and turn.streamed != turn.text


async def check_stored(client: httpx.AsyncClient, sid: str, turns: list[Planned]) -> None:
    """History holds each message and its answer as streamed, in order; each turn's log
    replays exactly what was streamed; queued turns ran one after the other."""
    messages = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"]
    expected: list[tuple[str, str, str, str]] = []
    for turn in turns:
        expected.append(("user", turn.content, "completed", turn.turn_id))
        expected.append(("assistant", turn.streamed, turn.status, turn.turn_id))
    assert [(m["role"], m["content"], m["status"], m["turn_id"]) for m in messages] == expected
    pairs = zip(messages[::2], messages[1::2], strict=True)
    for turn, (asked, reply) in zip(turns, pairs, strict=True):
        assert turn.frames[0].data["message_id"] == asked["id"]
        assert turn.frames[-1].data["message_id"] == reply["id"]
        replay = await client.get(
            f"/api/sessions/{sid}/turns/{turn.turn_id}/events", params={"after": 0}
        )
        assert replay.status_code == 200, replay.text
        assert parse(replay.text) == [f for f in turn.frames if f.event != "heartbeat"]
    ran = [(await client.get(f"/api/sessions/{sid}/turns/{t.turn_id}")).json() for t in turns]
    assert [t["status"] for t in ran] == [t.status for t in turns]
    assert (await client.get(f"/api/sessions/{sid}")).json()["status"] == "idle"
    for before, after in pairwise(ran):
        assert moment(before["finished_at"]) <= moment(after["started_at"])


def moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


async def check_all(
    client: httpx.AsyncClient, sids: dict[int, str], plan: dict[int, list[Planned]]
) -> None:
    for session, turns in plan.items():
        for turn in turns:
            check_stream(sids[session], turn)
    async with asyncio.timeout(WITHIN), asyncio.TaskGroup() as group:
        for session, turns in plan.items():
            group.create_task(check_stored(client, sids[session], turns))


async def test_forty_turns_at_once_each_stream_whole_stored_and_replayed(
    live_server: str, fake_llm: FakeLLM
) -> None:
    plan = {s: [Planned(s, 1, answer(s, 1, 6 + s % 7))] for s in range(SESSIONS)}
    async with loaded_client(live_server) as client:
        sids = await run_load(client, fake_llm, plan)
        await check_all(client, sids, plan)
    stats = await fake_llm.wait_for(lambda s: s.streams_open == 0, within=10)
    assert stats.replies_queued == 0  # each turn took the answer scripted for its message
    assert stats.streams_completed == SESSIONS and stats.streams_aborted == 0


QUEUED_SESSIONS = range(0, 5)  # three turns each: one running, two enqueued behind it
CANCELLED_SESSIONS = range(5, 10)  # one long turn each, cancelled after a few texts


def mixed_plan() -> dict[int, list[Planned]]:
    plan: dict[int, list[Planned]] = {}
    for s in range(SESSIONS):
        if s in QUEUED_SESSIONS:
            plan[s] = [
                Planned(s, t, answer(s, t, 10), on_busy="reject" if t == 1 else "enqueue")
                for t in (1, 2, 3)
            ]
        elif s in CANCELLED_SESSIONS:
            plan[s] = [Planned(s, 1, answer(s, 1, 400), cancel_after=3 + s % 3)]
        else:
            plan[s] = [Planned(s, 1, answer(s, 1, 6 + s % 7))]
    return plan


async def test_queued_and_cancelled_turns_among_many_end_as_they_should(
    live_server: str, fake_llm: FakeLLM
) -> None:
    plan = mixed_plan()
    async with loaded_client(live_server) as client:
        sids = await run_load(client, fake_llm, plan)
        await check_all(client, sids, plan)
    turns = sum(len(t) for t in plan.values())
    stats = await fake_llm.wait_for(lambda s: s.streams_open == 0, within=10)
    assert stats.replies_queued == 0
    assert stats.streams_aborted == len(CANCELLED_SESSIONS)
    assert stats.streams_completed == turns - len(CANCELLED_SESSIONS)
