"""The WebSocket API over a real server and a real client: the agent channel with
resume, the notice channels, the files channel, bad frames, auth and backpressure."""

import asyncio
import contextlib
import json
import uuid
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from roost.config import Settings
from roost.testing import FakeLLM
from tests.conftest import OPEN_REGISTRATION, service_url
from tests.support.accounts import account
from tests.support.apps import running
from tests.support.live import serving
from tests.support.projects import new_project
from tests.support.ws import Frame, client_frame, never_reading, opened

Client = httpx.AsyncClient


def is_done(frame: Frame) -> bool:
    return frame.get("channel") == "agent" and frame.get("type") == "done"


def agent_events(frames: list[Frame]) -> list[Frame]:
    return [f for f in frames if f.get("channel") == "agent" and "seq" in f]


async def new_session(url: str) -> str:
    async with httpx.AsyncClient(base_url=url) as http:
        return str((await http.post("/api/sessions", json={})).json()["id"])


async def test_a_prompt_streams_its_turn_and_a_reconnect_resumes_it(
    live_server: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "one two three four five six", "token_delay_ms": 30})
    sid = await new_session(live_server)
    async with opened(live_server) as socket:
        reply = await socket.request(channel="agent", type="prompt", session_id=sid, content="hi")
        assert reply["type"] == "ok", reply
        turn_id = reply["turn"]["id"]
        first = agent_events(await socket.until(lambda f: f.get("type") == "text"))
    assert first[0]["type"] == "turn_start" and first[0]["turn_id"] == turn_id
    last_seen = first[-1]["seq"]

    async with opened(live_server) as socket:
        reply = await socket.request(
            channel="agent", type="subscribe", session_id=sid, turn_id=turn_id, after=last_seen
        )
        assert reply["type"] == "ok"
        rest = agent_events(await socket.until(is_done))
    seqs = [f["seq"] for f in first + rest]
    assert seqs == list(range(1, len(seqs) + 1))  # every event once, in order
    text = "".join(f["content"] for f in first + rest if f["type"] == "text")
    assert text == "one two three four five six"
    assert rest[-1]["status"] == "completed"


async def test_a_subscribed_session_streams_turns_started_elsewhere(
    live_server: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "from another tab"})
    sid = await new_session(live_server)
    async with opened(live_server) as socket:
        assert (await socket.request(channel="agent", type="subscribe", session_id=sid))[
            "type"
        ] == "ok"
        async with httpx.AsyncClient(base_url=live_server) as http:
            sent = await http.post(f"/api/sessions/{sid}/messages", json={"content": "hello"})
            assert sent.status_code == 200
        events = agent_events(await socket.until(is_done))
    assert events[0]["type"] == "turn_start"
    assert "".join(f["content"] for f in events if f["type"] == "text") == "from another tab"


async def test_abort_input_set_model_fork_and_compact_over_the_socket(
    live_server: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(
        {"tool_calls": [{"id": "ask_1", "name": "ask_user", "arguments": {"question": "Why?"}}]},
        {"text": "Because."},
        {"text": "slow " * 40, "token_delay_ms": 50},
    )
    sid = await new_session(live_server)
    async with opened(live_server) as socket:
        reply = await socket.request(channel="agent", type="prompt", session_id=sid, content="q")
        turn_id = reply["turn"]["id"]
        asked = await socket.until(lambda f: f.get("type") == "input_required")
        request_id = asked[-1]["request_id"]
        answered = await socket.request(
            channel="agent",
            type="input",
            session_id=sid,
            turn_id=turn_id,
            request_id=request_id,
            answer="Just so",
        )
        assert answered["type"] == "ok" and answered["resumed"] is True
        await socket.until(is_done)

        model = await socket.request(
            channel="agent", type="set_model", session_id=sid, model="openai/fake-large"
        )
        assert model["type"] == "ok" and model["session"]["model"] == "openai/fake-large"
        forked = await socket.request(channel="agent", type="fork", session_id=sid, title="B")
        assert forked["type"] == "ok" and forked["session"]["parent_id"] == sid

        await socket.request(channel="agent", type="prompt", session_id=sid, content="slow")
        await socket.until(lambda f: f.get("type") == "text")
        aborted = await socket.request(channel="agent", type="abort", session_id=sid)
        assert aborted["type"] == "ok" and len(aborted["cancelled"]) == 1
        done = (await socket.until(is_done))[-1]
        assert done["status"] == "cancelled"
        compacted = await socket.request(channel="agent", type="compact", session_id=sid)
        assert compacted["type"] in ("ok", "error")


async def test_notices_reach_every_tab_of_the_user(live_server: str, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies(
        {
            "tool_calls": [
                {
                    "name": "update_plan",
                    "arguments": {"steps": [{"description": "Do it", "status": "completed"}]},
                }
            ]
        },
        {"tool_calls": [{"name": "finish_task", "arguments": {"success": True, "summary": "ok"}}]},
    )
    async with opened(live_server) as socket:
        for channel in ("sessions", "hstry", "trx"):
            assert (await socket.request(channel=channel, type="subscribe"))["type"] == "ok"
        async with httpx.AsyncClient(base_url=live_server) as http:
            sid = (await http.post("/api/sessions", json={})).json()["id"]
            created = await socket.until(lambda f: f.get("channel") == "sessions")
            assert created[-1] == {"channel": "sessions", "type": "created", "session_id": sid}
            await http.patch(f"/api/sessions/{sid}", json={"title": "Renamed"})
            updated = await socket.until(lambda f: f.get("type") == "updated")
            assert updated[-1]["session_id"] == sid
            task = (await http.post("/api/tasks", json={"description": "Plan it"})).json()
            frames = await socket.until(
                lambda f: f.get("channel") == "trx" and f.get("type") == "ended"
            )
            await http.delete(f"/api/sessions/{sid}")
            deleted = await socket.until(lambda f: f.get("type") == "deleted")
    kinds = [(f["channel"], f["type"]) for f in frames if f.get("task_id") == task["id"]]
    assert ("trx", "created") in kinds and ("trx", "started") in kinds
    assert ("trx", "plan_update") in kinds and kinds[-1] == ("trx", "ended")
    plan = next(f for f in frames if f.get("type") == "plan_update")
    assert plan["plan"]["steps"][0]["description"] == "Do it"
    assert any(f["channel"] == "hstry" and f["type"] == "messages_changed" for f in frames)
    assert deleted[-1]["session_id"] == sid


async def test_the_tasks_channel_carries_an_evaluations_progress(live_server: str) -> None:
    async with opened(live_server) as socket, httpx.AsyncClient(base_url=live_server) as http:
        assert (await socket.request(channel="tasks", type="subscribe"))["type"] == "ok"
        cases = [{"id": "a", "input": "one"}, {"id": "b", "input": "two"}]
        testset = (await http.post("/api/testsets", json={"name": "s", "cases": cases})).json()
        started = await http.post(
            f"/api/testsets/{testset['id']}/runs", json={"configurations": [{"preamble": "p"}]}
        )
        eval_id = started.json()["id"]
        frames = await socket.until(lambda f: f.get("type") == "eval_ended")
    ours = [f for f in frames if f.get("eval_run_id") == eval_id]
    assert [f["type"] for f in ours] == [
        "eval_started",
        "eval_progress",
        "eval_progress",
        "eval_ended",
    ]
    assert {f["case_id"] for f in ours if f["type"] == "eval_progress"} == {"a", "b"}
    assert [f["done"] for f in ours] == [0, 1, 2, 2] and ours[-1]["total"] == 2
    assert ours[-1]["summary"][0]["passed"] == 2


@pytest.mark.located
async def test_the_files_channel_reports_changes_in_a_watched_project(
    settings: Settings,
) -> None:
    async with running(settings) as (app, client), serving(app) as url:
        project = await new_project(client, "Watched")
        async with opened(url) as socket:
            watched = await socket.request(channel="files", type="watch", project_id=project["id"])
            assert watched["type"] == "ok"
            await asyncio.sleep(0.3)  # the watcher is up
            put = await client.put(
                f"/api/projects/{project['id']}/file", json={"path": "notes.md", "content": "x"}
            )
            assert put.status_code in (200, 201), put.text
            changed = await socket.until(lambda f: f.get("channel") == "files")
            other = await socket.request(
                channel="files", type="watch", project_id="proj_01jd3x0000000000000000zzzz"
            )
    assert changed[-1]["project_id"] == project["id"]
    assert {"change": "added", "path": "notes.md"} in changed[-1]["changes"]
    assert other["type"] == "error" and other["error"]["code"] == "PROJECT_NOT_FOUND"


async def test_bad_frames_get_error_frames_and_the_connection_stays_usable(
    live_server: str,
) -> None:
    async with opened(live_server) as socket:
        await socket.connection.send("not json")
        assert (await socket.receive())["error"]["code"] == "INVALID_REQUEST"
        await socket.connection.send("[1, 2]")
        assert (await socket.receive())["error"]["code"] == "INVALID_REQUEST"
        unknown = await socket.request(channel="nowhere", type="subscribe")
        assert unknown["type"] == "error" and unknown["error"]["code"] == "INVALID_REQUEST"
        wrong = await socket.request(channel="agent", type="dance")
        assert wrong["error"]["details"] == {"channel": "agent", "type": "dance"}
        empty = await socket.request(channel="agent", type="prompt", session_id="ses_x")
        assert empty["error"]["code"] == "INVALID_REQUEST"
        typed = await socket.request(channel="agent", type="prompt", session_id=12, content="x")
        assert typed["error"]["code"] == "VALIDATION_ERROR"
        assert typed["error"]["details"]["fields"][0]["field"] == "session_id"
        nobody = await socket.request(
            channel="agent", type="subscribe", session_id="ses_01jd3x0000000000000000zzzz"
        )
        assert nobody["error"]["code"] == "SESSION_NOT_FOUND"
        pong = await socket.request(channel="system", type="ping")
        assert pong["type"] == "pong"


async def test_a_frame_over_the_size_cap_closes_the_connection(live_server: str) -> None:
    async with opened(live_server) as socket:
        await socket.send(channel="system", type="ping", padding="x" * (1024 * 1024 + 1))
        with pytest.raises(ConnectionClosed) as closed:
            await socket.receive()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_another_users_session_is_not_found_on_the_socket(
    open_app: tuple[Any, Client], fake_llm: FakeLLM
) -> None:
    app, client = open_app
    a = await account(client, "a@example.com")
    b = await account(client, "b@example.com")
    sid = (await client.post("/api/sessions", headers=a.headers, json={})).json()["id"]
    async with serving(app) as url:
        with pytest.raises(InvalidStatus) as refused:
            async with opened(url):
                pass
        assert refused.value.response.status_code == 403
        async with opened(url, f"/api/ws?token={b.token}") as socket:
            for kind in ("subscribe", "abort"):
                answer = await socket.request(channel="agent", type=kind, session_id=sid)
                assert answer["error"]["code"] == "SESSION_NOT_FOUND"
            prompt = await socket.request(
                channel="agent", type="prompt", session_id=sid, content="mine now"
            )
            assert prompt["error"]["code"] == "SESSION_NOT_FOUND"
        async with opened(url, "/api/ws/mux", additional_headers=a.headers) as socket:
            assert (await socket.request(channel="agent", type="subscribe", session_id=sid))[
                "type"
            ] == "ok"
    assert fake_llm.stats().requests == 0


async def test_a_page_of_another_origin_cannot_open_the_socket(live_server: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with opened(live_server, origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    async with opened(live_server, origin=live_server) as socket:
        assert (await socket.request(channel="system", type="ping"))["type"] == "pong"


async def test_a_client_that_does_not_read_is_cut_off(settings: Settings) -> None:
    async with (
        running(settings, ws_send_queue=16) as (app, client),
        serving(app) as url,
        never_reading(url) as writer,
    ):
        connected = (await client.get("/api/ws/debug")).json()["connections"]
        cut_off = False
        # Ask for far more than the buffers on the way back hold, reading nothing.
        for batch in range(100):
            for number in range(1000):
                ping = {"channel": "system", "type": "ping", "id": f"{batch}-{number:0>90}"}
                writer.write(client_frame(json.dumps(ping)))
            with contextlib.suppress(TimeoutError):  # the server let go: it reads no more
                await asyncio.wait_for(writer.drain(), 1)
            await asyncio.sleep(0.05)
            if (await client.get("/api/ws/debug")).json()["connections"] == 0:
                cut_off = True
                break
        # Meanwhile everyone else is served.
        assert (await client.get("/api/health")).status_code == 200
    assert connected == 1 and cut_off


async def test_debug_counts_connections_and_subscriptions(live_server: str) -> None:
    sid = await new_session(live_server)
    async with opened(live_server) as socket, httpx.AsyncClient(base_url=live_server) as http:
        await socket.request(channel="agent", type="subscribe", session_id=sid)
        await socket.request(channel="sessions", type="subscribe")
        debug = (await http.get("/api/ws/debug")).json()
    assert debug["connections"] == 1
    assert debug["subscriptions"] == {"channels": 1, "sessions": 1, "turns": 0, "watches": 0}
    assert debug["yours"]["connections"] == 1
    assert sid not in str(debug)


@pytest.mark.located
async def test_an_admin_opens_a_shell_in_a_project(settings: Settings) -> None:
    async with running(settings, terminal_enabled=True) as (app, client), serving(app) as url:
        project = await new_project(client, "Shell")
        async with opened(url) as socket:
            opened_reply = await socket.request(
                channel="terminal", type="open", project_id=project["id"], cols=100, rows=30
            )
            assert opened_reply["type"] == "ok", opened_reply
            terminal = opened_reply["terminal_id"]
            resized = await socket.request(
                channel="terminal", type="resize", terminal_id=terminal, cols=120, rows=40
            )
            assert resized["type"] == "ok"
            await socket.send(
                channel="terminal",
                type="input",
                terminal_id=terminal,
                data="echo sum-$((40+2)) $(pwd) $(stty size)\n",
            )
            output = await socket.until(
                lambda f: (
                    f.get("type") == "output"
                    and "sum-42" in f.get("data", "")
                    and "40 120" in f.get("data", "")
                )
            )
            await socket.send(
                channel="terminal", type="input", terminal_id=terminal, data="exit 3\n"
            )
            ended = await socket.until(lambda f: f.get("type") == "exit")
    assert project["path"] in "".join(f.get("data", "") for f in output)
    assert ended[-1] == {"channel": "terminal", "type": "exit", "terminal_id": terminal, "code": 3}


async def test_the_terminal_is_off_by_default_and_for_admins_only(
    live_server: str, open_app: tuple[Any, Client]
) -> None:
    async with opened(live_server) as socket:
        off = await socket.request(channel="terminal", type="open", project_id="proj_x")
        assert off["error"]["code"] == "INVALID_REQUEST"
        assert "ROOST_TERMINAL_ENABLED" in off["error"]["message"]
        ui = await socket.request(channel="ui", type="subscribe")
        assert ui["type"] == "ok" and ui["channels"] == ["ui"]
    app, client = open_app
    app.state.services.settings.terminal_enabled = True
    await account(client, "root@example.com")  # the first account is the admin
    member = await account(client, "member@example.com")
    async with serving(app) as url, opened(url, f"/api/ws?token={member.token}") as socket:
        refused = await socket.request(channel="terminal", type="open", project_id="proj_x")
    assert refused["error"]["code"] == "FORBIDDEN"


async def test_a_silent_client_is_closed_after_the_idle_time(settings: Settings) -> None:
    async with (
        running(settings, ws_idle_seconds=0.5, ws_ping_seconds=60) as (app, _client),
        serving(app) as url,
        opened(url) as socket,
    ):
        with pytest.raises(ConnectionClosed) as closed:
            await socket.receive(within=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
    assert "Idle" in closed.value.rcvd.reason


async def test_with_redis_a_notice_reaches_the_users_tabs_on_another_process(
    settings: Settings,
) -> None:
    """Two servers on one database and one Redis: a session made through one is heard
    by a connection to the other."""
    shared = {"redis_url": service_url("ROOST_TEST_REDIS_URL"), **OPEN_REGISTRATION}
    async with (
        running(settings, **shared) as (first, first_client),
        running(settings, **shared) as (second, _),
        serving(second) as second_url,
    ):
        user = await account(first_client, f"{uuid.uuid4().hex}@example.com")
        async with opened(second_url, f"/api/ws?token={user.token}") as socket:
            assert (await socket.request(channel="sessions", type="subscribe"))["type"] == "ok"
            await asyncio.sleep(0.2)  # the second process's subscription is up
            made = await first_client.post("/api/sessions", headers=user.headers, json={})
            heard = await socket.until(lambda f: f.get("channel") == "sessions")
    assert heard[-1] == {"channel": "sessions", "type": "created", "session_id": made.json()["id"]}
    del first
