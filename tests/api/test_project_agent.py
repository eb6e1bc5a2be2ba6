"""An agent at work in a project: the file tools, commands, the project's context and
its sandbox, driven end to end by the fake model's scripted tool calls."""

import os
from pathlib import Path
from typing import Any

import httpx

from roost.config import AgentSettings, Settings
from roost.testing import FakeLLM
from tests.support.apps import running
from tests.support.mcp_fixtures import ARGS, COMMAND
from tests.support.projects import new_project
from tests.support.sse import Frame, assert_well_formed, parse

Client = httpx.AsyncClient


def call(name: str, call_id: str, **arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "name": name, "arguments": arguments}


async def bound_session(client: Client, project_id: str) -> str:
    response = await client.post("/api/sessions", json={"project_id": project_id})
    assert response.status_code == 201, response.text
    assert response.json()["project_id"] == project_id
    return str(response.json()["id"])


async def stream(client: Client, sid: str, content: str = "go") -> list[Frame]:
    response = await client.post(
        f"/api/sessions/{sid}/messages", json={"content": content, "stream": True}
    )
    events = parse(response.text)
    assert_well_formed(events)
    return events


def results(events: list[Frame]) -> dict[str, dict[str, Any]]:
    return {e.data["call_id"]: e.data for e in events if e.event == "tool_result"}


async def test_an_agent_lists_searches_reads_and_edits_its_project(
    client: Client, fake_llm: FakeLLM
) -> None:
    project = await new_project(client, "Greeter")
    root = Path(project["path"])
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("def greet():\n    return 'hi'\n")
    (root / "README.md").write_text("A greeter.\n")
    sid = await bound_session(client, project["id"])
    fake_llm.add_replies(
        {
            "tool_calls": [
                call("list_dir", "ls", path="."),
                call("glob", "find", pattern="*.py"),
                call("grep", "search", pattern="return"),
            ]
        },
        {"tool_calls": [call("read_file", "read", path="src/app.py")]},
        {
            "tool_calls": [
                call("edit_file", "edit", path="src/app.py", old_text="'hi'", new_text="'hello'")
            ]
        },
        {"text": "Now it says hello."},
    )
    events = await stream(client, sid, "make it say hello")
    done = results(events)
    assert done["ls"]["result"] == ["README.md", "src/"]
    assert done["find"]["result"] == ["src/app.py"]
    assert done["search"]["result"] == ["src/app.py:2:     return 'hi'"]
    assert done["read"]["result"] == "def greet():\n    return 'hi'\n"
    assert done["edit"]["success"] is True
    assert (root / "src" / "app.py").read_text() == "def greet():\n    return 'hello'\n"
    assert events[-1].data["status"] == "completed" and events[-1].data["iterations"] == 4
    offered = {t["function"]["name"] for t in fake_llm.stats().last_requests[-1].body["tools"]}
    assert {"read_file", "write_file", "edit_file", "list_dir", "glob", "grep"} <= offered
    assert "run_command" not in offered  # off unless enabled


async def test_every_way_out_of_the_project_is_refused(
    client: Client, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    project = await new_project(client, "Boxed")
    root = Path(project["path"])
    (root / "link").symlink_to(outside)
    (root / "folder-link").symlink_to(tmp_path)
    os.link(outside, root / "hard")
    sid = await bound_session(client, project["id"])
    fake_llm.add_replies(
        {
            "tool_calls": [
                call("read_file", "dots", path="../../outside.txt"),
                call("read_file", "absolute", path=str(outside)),
                call("read_file", "symlink", path="link"),
                call("write_file", "through-folder", path="folder-link/outside.txt", content="x"),
                call("read_file", "hard-link", path="hard"),
                call("write_file", "escape-write", path="../escaped.txt", content="x"),
                call("list_dir", "list-out", path=".."),
                call("grep", "grep-out", pattern="secret", path=str(tmp_path)),
            ]
        },
        {"text": "I stayed inside."},
    )
    events = await stream(client, sid)
    done = results(events)
    assert len(done) == 8
    for call_id, result in done.items():
        assert result["success"] is False, call_id
        assert "outside the project" in result["error"] or "hard links" in result["error"]
    assert outside.read_text() == "secret"
    assert not (root.parent / "escaped.txt").exists()
    assert events[-1].data["status"] == "completed"


async def test_file_tools_need_a_project(client: Client, fake_llm: FakeLLM) -> None:
    sid = str((await client.post("/api/sessions", json={})).json()["id"])
    fake_llm.add_replies(
        {"tool_calls": [call("read_file", "r", path="README.md")]}, {"text": "No project."}
    )
    events = await stream(client, sid)
    result = results(events)["r"]
    assert result["success"] is False and "no project" in result["error"]


async def test_the_project_files_and_snippets_join_the_prompt(
    client: Client, fake_llm: FakeLLM
) -> None:
    project = await new_project(client, "Documented")
    (Path(project["path"]) / "GUIDE.md").write_text("Always answer in French.")
    for entry in (
        {"type": "file", "path": "GUIDE.md"},
        {"type": "snippet", "name": "Style", "content": "Use short sentences."},
    ):
        added = await client.post(f"/api/projects/{project['id']}/files", json=entry)
        assert added.status_code == 201, added.text
    sid = await bound_session(client, project["id"])
    fake_llm.add_replies({"text": "D'accord."})
    await stream(client, sid)
    system = fake_llm.stats().last_requests[-1].body["messages"][0]
    assert system["role"] == "system"
    assert "Always answer in French." in system["content"]
    assert "Use short sentences." in system["content"]


async def test_a_read_only_project_refuses_writes(client: Client, fake_llm: FakeLLM) -> None:
    project = await new_project(client, "Frozen")
    (Path(project["path"]) / "notes.txt").write_text("keep")
    tightened = await client.patch(
        "/api/workspace/sandbox", params={"project_id": project["id"]}, json={"read_only": True}
    )
    assert tightened.status_code == 200, tightened.text
    sid = await bound_session(client, project["id"])
    fake_llm.add_replies(
        {
            "tool_calls": [
                call("write_file", "w", path="notes.txt", content="changed"),
                call("edit_file", "e", path="notes.txt", old_text="keep", new_text="lose"),
                call("read_file", "r", path="notes.txt"),
            ]
        },
        {"text": "Read only."},
    )
    done = results(await stream(client, sid))
    assert done["w"]["success"] is False and "read-only" in done["w"]["error"]
    assert done["e"]["success"] is False and "read-only" in done["e"]["error"]
    assert done["r"]["result"] == "keep"
    assert (Path(project["path"]) / "notes.txt").read_text() == "keep"


async def test_commands_run_in_the_project_once_approved(
    settings: Settings, fake_llm: FakeLLM
) -> None:
    async with running(settings, run_command_enabled=True) as (_app, client):
        project = await new_project(client, "Runner")
        sid = await bound_session(client, project["id"])
        fake_llm.add_replies(
            {
                "tool_calls": [
                    call("run_command", "sh", command="echo $((6*7)) > out.txt; cat out.txt")
                ]
            },
            {"text": "It printed 42."},
        )
        sent = await client.post(f"/api/sessions/{sid}/messages", json={"content": "run"})
        waiting = sent.json()
        [request] = waiting["input_required"]
        assert request["kind"] == "tool_approval" and request["tool"] == "run_command"
        assert not (Path(project["path"]) / "out.txt").exists()
        turn_id = waiting["turn"]["id"]
        await client.post(
            f"/api/sessions/{sid}/turns/{turn_id}/input",
            json={"request_id": request["id"], "approve": True},
        )
        events = parse((await client.get(f"/api/sessions/{sid}/turns/{turn_id}/events")).text)
    assert_well_formed(events)
    result = results(events)["sh"]
    assert result["success"] is True and "42" in result["result"]
    assert "[exit code 0]" in result["result"]
    assert (Path(project["path"]) / "out.txt").read_text() == "42\n"
    assert events[-1].data["status"] == "completed"


async def test_an_agent_calls_an_mcp_servers_tools_with_approval(
    client: Client, fake_llm: FakeLLM
) -> None:
    body = {
        "name": "helper",
        "transport": "stdio",
        "command": COMMAND,
        "args": ARGS,
        "requires_approval": True,
    }
    assert (await client.post("/api/mcp/servers", json=body)).status_code == 201
    sid = str((await client.post("/api/sessions", json={})).json()["id"])
    fake_llm.add_replies(
        {"tool_calls": [call("helper__add", "sum", a=2, b=40)]}, {"text": "It is 42."}
    )
    waiting = (await client.post(f"/api/sessions/{sid}/messages", json={"content": "add"})).json()
    offered = {t["function"]["name"] for t in fake_llm.stats().last_requests[-1].body["tools"]}
    assert {"helper__add", "helper__echo"} <= offered
    [request] = waiting["input_required"]
    assert request["tool"] == "helper__add" and request["kind"] == "tool_approval"
    turn_id = waiting["turn"]["id"]
    await client.post(
        f"/api/sessions/{sid}/turns/{turn_id}/input",
        json={"request_id": request["id"], "approve": True},
    )
    events = parse((await client.get(f"/api/sessions/{sid}/turns/{turn_id}/events")).text)
    assert_well_formed(events)
    result = results(events)["sum"]
    assert result["success"] is True and "42" in str(result["result"])
    sent = fake_llm.stats().last_requests[-1].body["messages"][-1]
    assert sent["role"] == "tool" and "42" in sent["content"]


async def test_tools_run_directly_work_in_the_named_or_active_project(client: Client) -> None:
    project = await new_project(client, "Direct")
    (Path(project["path"]) / "hello.txt").write_text("hello")

    async def execute(**body: Any) -> httpx.Response:
        return await client.post("/api/tools/execute", json={"name": "read_file", **body})

    named = await execute(args={"path": "hello.txt"}, project_id=project["id"])
    assert named.json() == {**named.json(), "success": True, "result": "hello"}
    nowhere = await execute(args={"path": "hello.txt"})
    assert nowhere.json()["success"] is False and "no project" in nowhere.json()["error"]
    await client.post(f"/api/projects/{project['id']}/activate")
    active = await execute(args={"path": "hello.txt"})
    assert active.json()["result"] == "hello"
    escape = await execute(args={"path": "../../etc/passwd"}, project_id=project["id"])
    assert escape.json()["success"] is False and "outside the project" in escape.json()["error"]
    unknown = await execute(args={"path": "x"}, project_id="proj_01jd3x0000000000000000000a")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "PROJECT_NOT_FOUND"


async def test_an_agent_runs_only_the_tools_it_is_given(
    settings: Settings, fake_llm: FakeLLM
) -> None:
    reader = AgentSettings(preamble="Read only.", tools=["read_file"])
    async with running(settings, agents={"reader": reader}) as (_app, client):
        project = await new_project(client, "Limited")
        session = await client.post(
            "/api/sessions", json={"project_id": project["id"], "agent": "reader"}
        )
        sid = session.json()["id"]
        made_up = call("write_file", "w", path="x.txt", content="x")
        fake_llm.add_replies({"tool_calls": [made_up]}, {"text": "Could not."})
        done = results(await stream(client, sid))
        offered = [t["function"]["name"] for t in fake_llm.stats().last_requests[-1].body["tools"]]
        fake_llm.add_replies({"tool_calls": [made_up]}, {"text": "No tools."})
        bare = await client.post(
            f"/api/sessions/{sid}/messages",
            json={"content": "go", "stream": True, "tools": False},
        )
        without = results(parse(bare.text))
    assert offered == ["read_file"]
    assert done["w"]["success"] is False and done["w"]["error"] == "Unknown tool 'write_file'"
    assert without["w"]["success"] is False
    assert not (Path(project["path"]) / "x.txt").exists()
