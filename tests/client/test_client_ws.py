"""roost.client's streams over the WebSocket (``via="websocket"``), sync and async,
against a live server: the same events as over SSE, resumed after a cut, answered pings."""

import asyncio
from typing import Any

import pytest

from roost.client import (
    AsyncRoost,
    BadRequestError,
    ConflictError,
    Event,
    NotFoundError,
    PermissionDeniedError,
    Roost,
    RoostError,
    TurnStream,
    UnprocessableError,
)
from roost.client.errors import error_from_frame
from roost.config import Settings
from roost.engine.tools.registry import Tool, ToolContext
from roost.testing import FakeLLM
from tests.support.proxy import WEBSOCKET, CuttingProxy

MISSING_TURN = "turn_00000000000000000000000000"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Pings every 0.1 s, and a connection that answers none for 1 s is closed: a stream
    that outlives that without reconnecting answered them."""
    return settings.model_copy(update={"ws_ping_seconds": 0.1, "ws_idle_seconds": 1.0})


def assert_whole_turn(events: list[Event]) -> None:
    """Every event once, in order, from turn_start to done: no seq repeated or missing."""
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    assert events[0].type == "turn_start" and events[-1].type == "done"


async def sockets_of_mine(roost: AsyncRoost) -> int:
    """The caller's open WebSocket connections, once the closed ones have left."""
    for _ in range(100):
        count = int((await roost.request("GET", "/api/ws/debug"))["yours"]["connections"])
        if count == 0:
            break
        await asyncio.sleep(0.02)
    return count


async def test_sync_and_async_streams_over_the_websocket_equal_the_stored_reply(
    live_server: str, fake_llm: FakeLLM
) -> None:
    # Each turn lasts about 1.5 s: longer than the server waits for an unanswered ping.
    slow = {"tokens": 30, "token_delay_ms": 50}
    fake_llm.add_replies(slow, slow)

    def run() -> tuple[TurnStream, list[Event], str]:
        with Roost(live_server) as roost:
            sid = roost.sessions.create().id
            with roost.turns.stream(sid, "go", via="websocket") as stream:
                events = list(stream)
            return stream, events, roost.sessions.messages(sid).data[-1].content

    stream, events, stored = await asyncio.to_thread(run)
    async with AsyncRoost(live_server) as roost:
        sid = (await roost.sessions.create()).id
        async with roost.turns.stream(sid, "go", via="websocket") as astream:
            aevents = [event async for event in astream]
        astored = (await roost.sessions.messages(sid)).data[-1].content
        over_sse = [e async for e in roost.turns.events(sid, aevents[0].turn_id)]
        open_sockets = await sockets_of_mine(roost)
    for read, got, kept in ((stream, events, stored), (astream, aevents, astored)):
        assert_whole_turn(got)
        assert read.status == "completed" and read.reconnects == 0  # pings were answered
        assert read.text == kept == "".join(e.text for e in got) != ""
        assert read.turn_id == got[0].turn_id and read.last_seq == got[-1].seq
    assert aevents == over_sse  # the same events, field for field, as over SSE
    assert open_sockets == 0  # both streams closed their sockets


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_a_cut_websocket_resumes_and_every_event_arrives_once(
    live_server: str, fake_llm: FakeLLM, flavour: str
) -> None:
    fake_llm.add_replies({"tokens": 30, "token_delay_ms": 5})
    # Frames are compressed (permessage-deflate): the cut comes a few events in.
    proxy = CuttingProxy(live_server, cut_after=700, marker=WEBSOCKET)
    async with proxy as url:
        if flavour == "sync":

            def run() -> tuple[TurnStream, list[Event], str]:
                with Roost(url) as roost:
                    sid = roost.sessions.create().id
                    stream = roost.turns.stream(sid, "go", via="websocket")
                    events = list(stream)
                    return stream, events, roost.sessions.messages(sid).data[-1].content

            stream, events, stored = await asyncio.to_thread(run)
            reconnects, text, status = stream.reconnects, stream.text, stream.status
        else:
            async with AsyncRoost(url) as roost:
                sid = (await roost.sessions.create()).id
                astream = roost.turns.stream(sid, "go", via="websocket")
                events = [event async for event in astream]
                stored = (await roost.sessions.messages(sid)).data[-1].content
                turns = await roost.turns.list(sid)
            reconnects, text, status = astream.reconnects, astream.text, astream.status
            assert len(turns.data) == 1  # started once, over HTTP
    assert proxy.cuts == 1 and reconnects >= 1
    assert_whole_turn(events)
    assert status == "completed"  # the turn outlived the connection
    assert text == stored == "".join(e.text for e in events) != ""


async def test_following_a_running_turn_after_n_gives_only_the_later_events(
    live_server: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"tokens": 40, "token_delay_ms": 20})
    async with AsyncRoost(live_server) as roost:
        sid = (await roost.sessions.create()).id
        turn = await roost.turns.start(sid, "go")
        async with roost.turns.events(sid, turn.id, via="websocket") as first:
            async for event in first:
                if event.seq == 4:
                    break  # closed here; the turn runs on
        running = await roost.turns.get(sid, turn.id)
        rest = roost.turns.events(sid, turn.id, after=first.last_seq, via="websocket")
        later = [event async for event in rest]
        whole = [event async for event in roost.turns.events(sid, turn.id)]
        with pytest.raises(NotFoundError) as missing:
            await roost.turns.events(sid, MISSING_TURN, via="websocket").wait()
        with pytest.raises(BadRequestError) as past_the_end:
            await roost.turns.events(sid, turn.id, after=len(whole) + 5, via="websocket").wait()
    async with AsyncRoost(live_server, token="rk_not_a_key") as stranger:
        with pytest.raises(RoostError) as refused:  # not retried
            await stranger.turns.events(sid, turn.id, via="websocket").wait()
    assert first.last_seq == 4 and first.done is None and not running.finished
    assert [e.seq for e in later] == list(range(5, len(whole) + 1))
    assert later == whole[4:] and rest.status == "completed" and rest.reconnects == 0
    assert rest.text == "".join(e.text for e in whole)[len(first.text) :]
    assert missing.value.code == "TURN_NOT_FOUND" and missing.value.status == 404
    assert past_the_end.value.code == "INVALID_REQUEST"
    assert isinstance(refused.value, PermissionDeniedError)  # the handshake's 403


async def test_an_approval_is_answered_while_the_websocket_stream_stays_open(
    app: Any, live_server: str, fake_llm: FakeLLM
) -> None:
    ran: list[dict[str, Any]] = []

    async def deploy(args: dict[str, Any], _context: ToolContext) -> str:
        ran.append(args)
        return "deployed"

    schema = {"type": "object", "properties": {}}
    tool = Tool("deploy", "Deploys", schema, deploy, requires_approval=True)
    app.state.services.tools.register(tool)
    call = {"id": "c_deploy", "name": "deploy", "arguments": {"target": "prod"}}
    fake_llm.add_replies({"tool_calls": [call]}, {"text": "Shipped."})
    async with AsyncRoost(live_server) as roost:
        sid = (await roost.sessions.create()).id
        async with roost.turns.stream(sid, "ship it", via="websocket") as stream:
            events = []
            async for event in stream:
                events.append(event)
                if event.type == "input_required":
                    assert ran == []  # nothing runs before the answer
                    answered = await roost.turns.answer(
                        sid, event.turn_id, event.payload["request_id"], approve=True
                    )
    assert_whole_turn(events)
    kinds = [event.type for event in events]
    assert kinds.index("input_required") < kinds.index("tool_result")
    assert answered.resumed is True and ran == [{"target": "prod"}]
    assert stream.status == "completed" and stream.text == "Shipped."
    assert stream.reconnects == 0


def test_an_error_frame_raises_the_class_of_its_codes_http_status() -> None:
    def raised(code: str) -> RoostError:
        return error_from_frame({"code": code, "message": "m", "details": {"n": 1}})

    assert isinstance(raised("TURN_NOT_FOUND"), NotFoundError)
    assert isinstance(raised("INPUT_NOT_PENDING"), ConflictError)
    assert isinstance(raised("INVALID_INPUT_RESPONSE"), BadRequestError)
    assert isinstance(raised("FORBIDDEN"), PermissionDeniedError)
    assert isinstance(raised("VALIDATION_ERROR"), UnprocessableError)
    error = raised("TURN_IN_PROGRESS")
    assert (error.status, error.code, error.message) == (409, "TURN_IN_PROGRESS", "m")
    assert error.details == {"n": 1}
    with Roost("http://t") as roost, pytest.raises(ValueError, match="via must be"):
        roost.turns.events("ses_1", "turn_1", via="ws")  # type: ignore[arg-type]
