"""roost.client against a live server (sync and async), against scripted transports for
retries, and against the served OpenAPI document and docs/client.md."""

import asyncio
import inspect
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, get_type_hints

import httpx
import pytest
from pydantic import BaseModel

from roost.client import (
    APIConnectionError,
    AsyncRoost,
    ConflictError,
    Event,
    NotFoundError,
    RateLimitedError,
    Roost,
    RoostError,
    ServerError,
    TurnStream,
    UnprocessableError,
    models,
)
from roost.client._retry import RetryPolicy
from roost.client._sse import Decoder, Frame, event_of
from roost.testing import FakeLLM
from tests.support.proxy import CuttingProxy
from tests.support.turns import ask

ROOT = Path(__file__).parents[2]
MISSING_SESSION = "ses_00000000000000000000000000"


def seqs(events: list[Event]) -> list[int]:
    return [event.seq for event in events]


def assert_whole_turn(events: list[Event]) -> None:
    """Every event once, in order, from turn_start to done."""
    assert seqs(events) == list(range(1, len(events) + 1))
    assert events[0].type == "turn_start" and events[-1].type == "done"


# --- against a live server ---------------------------------------------------------------


async def test_the_sync_client_sends_streams_and_reads_back(
    live_server: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "Cedar lasts."}, {"text": "Streamed in order."})

    def run() -> tuple[Any, ...]:
        with Roost(live_server) as roost:
            health = roost.health()
            session = roost.sessions.create(title="Sync", folder="Client")
            result = roost.turns.send(session.id, "hi")
            stream = roost.turns.stream(session.id, "again")
            events = list(stream)
            detail = roost.sessions.get(session.id)
            listed = roost.sessions.list(folder="Client")
            with pytest.raises(RoostError) as caught:
                roost.turns.get(session.id, "turn_00000000000000000000000000")
            return health, session, result, stream, events, detail, listed, caught.value

    health, session, result, stream, events, detail, listed, error = await asyncio.to_thread(run)
    assert health.status == "ok" and health.model == "fake-small"
    assert session.title == "Sync" and session.folder == "Client"
    assert result.text == "Cedar lasts." and result.turn.status == "completed"
    assert result.message is not None and result.message.content == "hi"
    assert_whole_turn(events)
    assert stream.status == "completed" and stream.reconnects == 0
    assert stream.text == "Streamed in order." == "".join(e.text for e in events)
    assert [m.content for m in detail.messages][-1] == stream.text
    assert detail.message_count == 4
    assert [s.id for s in listed.data] == [session.id] and listed.has_more is False
    assert isinstance(error, NotFoundError) and error.code == "TURN_NOT_FOUND"


async def test_the_async_client_sends_streams_and_lists(
    live_server: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "One."}, {"text": "Two, streamed."}, {"text": "Three."})
    async with AsyncRoost(live_server) as roost:
        session = await roost.sessions.create(title="Async")
        result = await roost.turns.send(session.id, "one")
        async with roost.turns.stream(session.id, "two") as stream:
            events = [event async for event in stream]
        started = await roost.turns.start(session.id, "three")
        followed = roost.turns.events(session.id, started.id)
        done = await followed.wait()
        rest = [e async for e in roost.turns.events(session.id, events[0].turn_id, after=3)]
        turns = await roost.turns.list(session.id)
        messages = await roost.sessions.messages(session.id, limit=2)
        agents = await roost.agents.list()
        agent = await roost.agents.get(agents.data[0].name)
        listed_models = await roost.models.list()
        await roost.sessions.delete(session.id)
        with pytest.raises(NotFoundError):
            await roost.sessions.get(session.id)
    assert result.text == "One."
    assert_whole_turn(events)
    assert stream.text == "Two, streamed." and stream.turn_id == events[0].turn_id
    assert seqs(rest) == seqs(events)[3:] and rest[-1] == events[-1]
    assert started.status in ("queued", "running")
    assert done is not None and followed.status == "completed" and followed.text == "Three."
    assert turns.data[0].id == started.id and len(turns.data) == 3
    assert [m.content for m in messages.data] == ["three", "Three."] and messages.has_more
    assert agent.id == agents.data[0].id
    assert "fake-small" in {m.name for m in listed_models} | {m.id for m in listed_models}


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_a_dropped_stream_resumes_and_every_event_arrives_once(
    live_server: str, fake_llm: FakeLLM, flavour: str
) -> None:
    fake_llm.add_replies({"tokens": 30, "token_delay_ms": 5})
    proxy = CuttingProxy(live_server, cut_after=1500)
    async with proxy as url:
        if flavour == "sync":

            def run() -> tuple[TurnStream, list[Event], str]:
                with Roost(url) as roost:
                    sid = roost.sessions.create().id
                    stream = roost.turns.stream(sid, "go")
                    events = list(stream)
                    return stream, events, roost.sessions.messages(sid).data[-1].content

            stream, events, stored = await asyncio.to_thread(run)
            reconnects, text, status = stream.reconnects, stream.text, stream.status
        else:
            async with AsyncRoost(url) as roost:
                sid = (await roost.sessions.create()).id
                astream = roost.turns.stream(sid, "go")
                events = [event async for event in astream]
                stored = (await roost.sessions.messages(sid)).data[-1].content
            reconnects, text, status = astream.reconnects, astream.text, astream.status
    assert proxy.cuts == 1 and reconnects == 1
    assert any(b"last-event-id: " in request.lower() for request in proxy.requests)
    assert_whole_turn(events)
    assert status == "completed"  # the turn outlived the connection
    assert text == stored == "".join(e.text for e in events) != ""


async def test_a_reused_idempotency_key_gets_the_same_turn(
    live_server: str, fake_llm: FakeLLM
) -> None:
    async with AsyncRoost(live_server) as roost:
        session = await roost.sessions.create(idempotency_key="create-1")
        same_session = await roost.sessions.create(idempotency_key="create-1")
        first = await roost.turns.send(session.id, "once", idempotency_key="send-1")
        again = await roost.turns.send(session.id, "once", idempotency_key="send-1")
        streamed = roost.turns.stream(session.id, "twice", idempotency_key="stream-1")
        first_events = [e async for e in streamed]
        restreamed = roost.turns.stream(session.id, "twice", idempotency_key="stream-1")
        second_events = [e async for e in restreamed]
        messages = await roost.sessions.messages(session.id)
    assert same_session.id == session.id
    assert again.turn.id == first.turn.id and again.text == first.text
    assert restreamed.turn_id == streamed.turn_id
    assert second_events == first_events
    assert [m.role for m in messages.data] == ["user", "assistant"] * 2
    assert fake_llm.stats().requests == 2  # two turns ran, not four


async def test_errors_raise_roost_errors_with_their_code(
    live_server: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"tokens": 300, "token_delay_ms": 10})
    async with AsyncRoost(live_server) as roost:
        with pytest.raises(NotFoundError) as missing:
            await roost.sessions.get(MISSING_SESSION)
        with pytest.raises(UnprocessableError) as invalid:
            await roost.sessions.list(limit=1000)
        session = await roost.sessions.create()
        async with roost.turns.stream(session.id, "long") as running:
            async for event in running:
                if event.type == "text":
                    break
            with pytest.raises(ConflictError) as busy:
                await roost.turns.send(session.id, "now")
            cancelled = await roost.turns.cancel(session.id, running.turn_id)
        assert running.turn_id is not None
        rest = roost.turns.events(session.id, running.turn_id, after=running.last_seq)
        await rest.wait()
        again = await roost.turns.cancel(session.id, running.turn_id)
    assert isinstance(missing.value, RoostError)
    assert missing.value.status == 404 and missing.value.code == "SESSION_NOT_FOUND"
    assert missing.value.details == {"session_id": MISSING_SESSION}
    assert missing.value.request_id and missing.value.request_id.startswith("req_")
    assert invalid.value.code == "VALIDATION_ERROR" and invalid.value.status == 422
    assert busy.value.code == "TURN_IN_PROGRESS"
    assert busy.value.details["turn_id"] == running.turn_id
    assert [t.id for t in cancelled] == [running.turn_id]
    assert rest.status == "cancelled" and again == []


async def test_a_waiting_turn_is_answered_and_its_stream_goes_on(
    live_server: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(
        ask("Which colour?", ["red", "blue"]),
        {"text": "Blue it is."},
        ask("Which wood?"),
        {"text": "Cedar, then."},
    )
    async with AsyncRoost(live_server) as roost:
        session = await roost.sessions.create()
        waiting = await roost.turns.send(session.id, "paint it")
        [request] = waiting.input_required
        answered = await roost.turns.answer(
            session.id, waiting.turn.id, request.request_id, answer="blue"
        )
        followed = roost.turns.events(session.id, waiting.turn.id)
        await followed.wait()
        asked = await roost.turns.inputs(session.id, waiting.turn.id)
        async with roost.turns.stream(session.id, "build it") as stream:
            async for event in stream:
                if event.type == "input_required":
                    await roost.turns.answer(
                        session.id, event.turn_id, event.payload["request_id"], answer="cedar"
                    )
    assert waiting.turn.status == "waiting" and waiting.text == ""
    assert request.kind == "question" and request.prompt == "Which colour?"
    assert answered.resumed is True and answered.request.status == "answered"
    assert followed.status == "completed" and followed.text == "Blue it is."
    assert [(r.status, r.response) for r in asked] == [("answered", {"answer": "blue"})]
    assert stream.status == "completed" and stream.text == "Cedar, then."


# --- retries, against scripted transports ------------------------------------------------

SESSION: dict[str, Any] = {
    "id": "ses_01",
    "title": None,
    "custom_title": None,
    "display_title": "New Chat",
    "agent": None,
    "model": None,
    "project_id": None,
    "working_directory": None,
    "folder": None,
    "pinned": False,
    "archived": False,
    "status": "idle",
    "message_count": 0,
    "task_count": 0,
    "parent_id": None,
    "delegated_by": None,
    "usage": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
    "metadata": {},
    "approved_tools": [],
    "created_at": "2026-01-01T00:00:00.000Z",
    "updated_at": "2026-01-01T00:00:00.000Z",
    "last_activity_at": "2026-01-01T00:00:00.000Z",
    "a_field_of_a_newer_server": 1,
}


def envelope(code: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": code, "details": {}}, "request_id": "req_x"}


def scripted(*answers: httpx.Response | Exception) -> tuple[list[httpx.Request], Any]:
    """A handler that answers in turn with each of ``answers`` (an exception is raised),
    and the requests it was sent."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return seen, handle


def test_a_429_is_retried_after_retry_after_under_the_same_key() -> None:
    limited = httpx.Response(429, headers={"Retry-After": "1"}, json=envelope("RATE_LIMITED"))
    seen, handle = scripted(limited, httpx.Response(201, json=SESSION))
    with Roost("http://roost.test", transport=httpx.MockTransport(handle)) as roost:
        started = time.monotonic()
        session = roost.sessions.create(title="t")
        waited = time.monotonic() - started
    assert session.id == "ses_01" and session.model_extra == {"a_field_of_a_newer_server": 1}
    assert len(seen) == 2 and waited >= 0.95
    assert len({request.headers["Idempotency-Key"] for request in seen}) == 1


async def test_the_async_client_retries_503_and_connection_failures() -> None:
    unavailable = httpx.Response(503, headers={"Retry-After": "0"}, json=envelope("UNAVAILABLE"))
    refused = httpx.ConnectError("refused")
    seen, handle = scripted(unavailable, refused, httpx.Response(201, json=SESSION))
    async with AsyncRoost("http://roost.test", transport=httpx.MockTransport(handle)) as roost:
        session = await roost.sessions.create()
    assert session.id == "ses_01" and len(seen) == 3
    assert len({request.headers["Idempotency-Key"] for request in seen}) == 1


async def test_retries_stop_where_they_cannot_help() -> None:
    always = httpx.Response(429, headers={"Retry-After": "0"}, json=envelope("RATE_LIMITED"))
    limited, handle = scripted(always)
    async with AsyncRoost("http://t", max_retries=1, transport=httpx.MockTransport(handle)) as r:
        with pytest.raises(RateLimitedError) as spent:
            await r.health()
    unconfigured, handle = scripted(httpx.Response(503, json=envelope("PROVIDER_NOT_CONFIGURED")))
    async with AsyncRoost("http://t", transport=httpx.MockTransport(handle)) as r:
        with pytest.raises(ServerError) as permanent:
            await r.health()
    proxy_page, handle = scripted(httpx.Response(502, text="<html>bad gateway</html>"))
    async with AsyncRoost("http://t", transport=httpx.MockTransport(handle)) as r:
        with pytest.raises(ServerError) as not_ours:
            await r.health()
    refused, handle = scripted(httpx.ConnectError("refused"))
    async with AsyncRoost("http://t", max_retries=0, transport=httpx.MockTransport(handle)) as r:
        with pytest.raises(APIConnectionError) as unreachable:
            await r.health()
    assert len(limited) == 2 and spent.value.retry_after == 0.0
    assert len(unconfigured) == 1 and permanent.value.code == "PROVIDER_NOT_CONFIGURED"
    assert len(proxy_page) == 1 and not_ours.value.code == "HTTP_ERROR"
    assert "bad gateway" in not_ours.value.message
    assert len(refused) == 1 and unreachable.value.status == 0


def test_the_wait_before_a_retry_is_what_the_server_asks_within_a_cap() -> None:
    policy = RetryPolicy(max_delay=30.0)
    in_five = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    assert policy.delay(0, {"Retry-After": "2"}) == 2.0
    assert policy.delay(0, {"retry-after": "120"}) == 30.0
    assert 3.0 < policy.delay(0, {"Retry-After": in_five}) <= 5.0
    assert 0 < policy.delay(0, {}) <= policy.base_delay
    assert policy.delay(3, {"Retry-After": "soon"}) <= policy.base_delay * 8


def test_the_sse_decoder_reads_frames_as_the_specification_says() -> None:
    decoder = Decoder()
    lines = [
        ": a comment",
        "event: heartbeat",
        'data: {"type":"heartbeat"}',
        "",
        "id: 7",
        "event: text",
        'data:{"type":"text","seq":7,"turn_id":"turn_1",',
        'data: "session_id":"ses_1","ts":"2026-01-01T00:00:00Z","content":"Hi"}',
        "",
        "id: 8",
        "data: cut off before its blank line",
    ]
    frames = [frame for line in lines if (frame := decoder.feed(line)) is not None]
    assert [f.event for f in frames] == ["heartbeat", "text"]
    assert event_of(frames[0]) is None
    event = event_of(frames[1])
    assert event is not None and (event.seq, event.text) == (7, "Hi")
    assert event.payload == {"content": "Hi"}
    done = Frame("9", "done", wire(9, "done", status="failed").split(b"data: ")[1].decode())
    assert event_of(done) == models.Event.model_validate_json(done.data)


def wire(seq: int, kind: str, **payload: Any) -> bytes:
    """An event as the server frames it."""
    data = {"type": kind, "seq": seq, "turn_id": "turn_1", "session_id": "ses_1"}
    data |= {"ts": "2026-01-01T00:00:00.000Z", **payload}
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (seq, kind.encode(), json.dumps(data).encode())


class Breaking(httpx.SyncByteStream):
    """A response body that sends ``chunks``, then loses its connection."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        raise httpx.RemoteProtocolError("peer closed connection without a complete body")


def event_stream(body: httpx.SyncByteStream, turn_id: str | None = "turn_1") -> httpx.Response:
    headers = {"Content-Type": "text/event-stream"}
    if turn_id:
        headers["X-Turn-ID"] = turn_id
    return httpx.Response(200, headers=headers, stream=body)


def test_a_stream_resumes_after_the_last_seq_it_read() -> None:
    third = wire(3, "text", content="c")
    cut = event_stream(Breaking(wire(1, "turn_start"), wire(2, "text", content="b"), third[:20]))
    rest = [wire(2, "text", content="b"), third, wire(4, "done", status="completed")]
    seen, handle = scripted(cut, event_stream(httpx.ByteStream(b"".join(rest))))
    with Roost("http://t", transport=httpx.MockTransport(handle)) as roost:
        stream = roost.turns.stream("ses_1", "hi")
        events = list(stream)
    assert seqs(events) == [1, 2, 3, 4] and stream.text == "bc"
    assert stream.reconnects == 1 and stream.status == "completed"
    start, resumed = seen
    assert (start.method, start.url.path) == ("POST", "/api/sessions/ses_1/messages")
    assert json.loads(start.content) == {"content": "hi", "stream": True}
    assert (resumed.method, resumed.url.path) == ("GET", "/api/sessions/ses_1/turns/turn_1/events")
    assert resumed.headers["Last-Event-ID"] == "2"


def test_a_stream_that_cannot_resume_raises() -> None:
    # Cut off before the turn is named: the start is sent again under its key, which the
    # server answers with the same turn; here it never answers, and retries run out.
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return event_stream(Breaking(), turn_id=None)

    transport = httpx.MockTransport(handle)
    with (
        Roost("http://t", max_retries=1, transport=transport) as roost,
        pytest.raises(APIConnectionError) as broken,
    ):
        list(roost.turns.stream("ses_1", "hi"))
    assert broken.value.code == "STREAM_INTERRUPTED" and broken.value.status == 0
    assert [request.method for request in seen] == ["POST", "POST"]
    assert len({request.headers["Idempotency-Key"] for request in seen}) == 1


# --- the served OpenAPI document ---------------------------------------------------------


class Tracked:
    """The client, noting which of its methods are called (``sessions.create``, …)."""

    def __init__(self, target: Any, used: set[str], prefix: str = "") -> None:
        self._target, self._used, self._prefix = target, used, prefix

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if inspect.ismethod(value):
            self._used.add(self._prefix + name)
            return value
        return Tracked(value, self._used, f"{self._prefix}{name}.")


class Recording(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await super().handle_async_request(request)


def public_methods(client: type) -> set[str]:
    """Every method a caller of ``client`` may call, as ``resource.method``."""

    def public(kind: type) -> set[str]:
        methods = inspect.getmembers(kind, inspect.isfunction)
        return {name for name, _ in methods if not name.startswith("_")}

    names = public(client) - {"close"}
    for resource, kind in get_type_hints(client).items():
        names |= {f"{resource}.{name}" for name in public(kind)}
    return names


async def served_document(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url) as http:
        document: dict[str, Any] = (await http.get("/api/openapi.json")).json()
    return document


def operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    for template, operations in spec["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path):
            found: dict[str, Any] | None = operations.get(method.lower())
            return found
    return None


async def check_every_method_calls_a_route(
    live_server: str, fake_llm: FakeLLM, spec: dict[str, Any]
) -> None:
    fake_llm.add_replies(ask("Which colour?"), {"text": "Fine."})
    recording, used = Recording(), set[str]()
    async with AsyncRoost(live_server, transport=recording) as client:
        roost = Tracked(client, used)
        await roost.health()
        session = await roost.sessions.create(title="t")
        await roost.sessions.list(limit=5)
        waiting = await roost.turns.send(session.id, "q")
        sid, tid = session.id, waiting.turn.id
        [request] = await roost.turns.inputs(sid, tid)
        await roost.turns.answer(sid, tid, request.request_id, answer="red")
        await roost.turns.events(sid, tid, after=2).wait()
        await roost.turns.get(sid, tid)
        await roost.turns.list(sid)
        await roost.turns.stream(sid, "again").wait()
        started = await roost.turns.start(sid, "and again")
        await roost.turns.cancel(sid)
        await roost.turns.events(sid, started.id).wait()  # ended, cancelled or not
        await roost.turns.cancel(sid, started.id)
        await roost.sessions.get(sid)
        await roost.sessions.messages(sid)
        agents = await roost.agents.list()
        await roost.agents.get(agents.data[0].id)
        await roost.models.list()
        assert (await roost.request("GET", f"/api/sessions/{sid}"))["id"] == sid
        await roost.sessions.delete(sid)
    assert used == public_methods(AsyncRoost) == public_methods(Roost)
    for sent in recording.requests:
        found = operation(spec, sent.method, sent.url.path)
        assert found is not None, f"{sent.method} {sent.url.path} is not in the document"
        headers = {p["name"].lower() for p in found.get("parameters", []) if p["in"] == "header"}
        assert headers >= {"idempotency-key", "last-event-id"} & set(sent.headers.keys())
        assert set(sent.url.params.keys()) <= {p["name"] for p in found.get("parameters", [])}
    assert any("last-event-id" in sent.headers for sent in recording.requests)


JSON_BODY = ("content", "application/json", "schema")


def answer_of(method: str, path: str, status: int = 200) -> tuple[str, ...]:
    """Where the document has the schema of a route's JSON answer."""
    return ("paths", path, method, "responses", str(status), *JSON_BODY)


SESSION_OUT = answer_of("post", "/api/sessions", 201)
TURN_RESULT = answer_of("post", "/api/sessions/{session_id}/messages")
AGENT_OUT = answer_of("get", "/api/agents/{agent_ref}")
# Each model, and where the document has the schemas it stands for: the answers of the
# routes the client reads it from (so that the schemas' names do not matter).
SCHEMAS: dict[type[BaseModel], list[tuple[str, ...]]] = {
    models.Health: [answer_of("get", "/api/health")],
    models.Session: [SESSION_OUT],
    models.SessionDetail: [answer_of("get", "/api/sessions/{session_id}")],
    models.Page[models.Session]: [answer_of("get", "/api/sessions")],
    models.Page[models.Message]: [answer_of("get", "/api/sessions/{session_id}/messages")],
    models.Message: [(*TURN_RESULT, "properties", "reply")],
    models.TurnResult: [TURN_RESULT],
    models.Turn: [answer_of("get", "/api/sessions/{session_id}/turns/{turn_id}")],
    models.Usage: [
        (*SESSION_OUT, "properties", "usage"),
        (*TURN_RESULT, "properties", "turn", "properties", "usage"),
    ],
    models.InputRequest: [(*TURN_RESULT, "properties", "input_required", "items")],
    models.InputAnswer: [answer_of("post", "/api/sessions/{session_id}/turns/{turn_id}/input")],
    models.Page[models.Agent]: [answer_of("get", "/api/agents")],
    models.Agent: [AGENT_OUT],
    models.ModelRef: [(*AGENT_OUT, "properties", "model_ref")],
    models.Model: [(*answer_of("get", "/api/models"), "properties", "data", "items")],
}
# A list's second name for its data (CoAgent's ``agents``) is left to model_extra.
SAME_AS_DATA = {"agents"}


def schema_at(spec: dict[str, Any], where: tuple[str, ...]) -> dict[str, Any]:
    """The schema at ``where``, through references, arrays' items and nullable choices."""

    def concrete(node: dict[str, Any]) -> dict[str, Any]:
        while True:
            if "$ref" in node:
                target: Any = spec
                for part in node["$ref"].removeprefix("#/").split("/"):
                    target = target[part]
                node = target
            elif "anyOf" in node:
                [node] = [choice for choice in node["anyOf"] if choice.get("type") != "null"]
            else:
                return node

    node: dict[str, Any] = spec
    for key in where:
        node = concrete(node)[key]
    return concrete(node)


def required_of(model: type[BaseModel]) -> set[str]:
    return {name for name, field in model.model_fields.items() if field.is_required()}


def check_the_models_declare_what_the_schemas_require(spec: dict[str, Any]) -> None:
    declared = {
        model
        for model in vars(models).values()
        if isinstance(model, type) and issubclass(model, models.RoostModel)
    }
    assert declared - {models.RoostModel, models.Page, models.Event} <= set(SCHEMAS)
    for model, places in SCHEMAS.items():
        assert model.model_config.get("extra") == "allow", model
        for where in places:
            schema = schema_at(spec, where)
            assert required_of(model) <= set(schema["properties"]), (model, where)
            wanted = set(schema.get("required", [])) - SAME_AS_DATA
            assert wanted <= set(model.model_fields), (model, where)
    # An Event is any of the stream's events: their common envelope, the rest in payload.
    turn_event = ("components", "schemas", "TurnEvent", "discriminator", "mapping")
    kinds = [
        schema_at(spec, ("components", "schemas", ref.rsplit("/", 1)[1]))
        for ref in schema_at(spec, turn_event).values()
    ]
    envelope = set.intersection(*(set(kind["required"]) for kind in kinds))
    assert len(kinds) >= 14 and models.Event.model_config.get("extra") == "allow"
    assert all(required_of(models.Event) <= set(kind["properties"]) for kind in kinds)
    assert envelope == set(models.Event.model_fields) == required_of(models.Event)


async def test_the_client_matches_the_served_openapi_document(
    live_server: str, fake_llm: FakeLLM
) -> None:
    spec = await served_document(live_server)
    await check_every_method_calls_a_route(live_server, fake_llm, spec)
    check_the_models_declare_what_the_schemas_require(spec)


# --- docs/client.md ------------------------------------------------------------------------


def documented_examples() -> list[str]:
    text = (ROOT / "docs" / "client.md").read_text()
    return re.findall(r"<!-- client-example -->\n```python\n(.*?)```", text, re.DOTALL)


async def test_the_examples_in_docs_client_md_run(
    live_server: str, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    examples = documented_examples()
    monkeypatch.setenv("ROOST_URL", live_server)
    fake_llm.add_replies(
        {"match": "colour to paint", **ask("Which colour?", ["red", "blue"])},
        {"match": "colour to paint", "text": "Blue it is."},
        {"match": "long essay", "tokens": 300, "token_delay_ms": 10},
    )

    def run(code: str) -> None:
        exec(compile(code, "docs/client.md", "exec"), {"__name__": "__example__"})

    for code in examples:
        await asyncio.to_thread(run, code)
    assert len(examples) >= 8
    assert fake_llm.stats().replies_queued == 0  # the question and the essay were used
