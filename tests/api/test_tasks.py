"""Tasks end to end: the fake model writes a plan, works, and finishes; the task's
status, plan, result, events and artifacts follow, on both databases."""

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import httpx

from roost.testing import FakeLLM
from tests.support.accounts import account
from tests.support.projects import code, new_project
from tests.support.sse import assert_well_formed, parse

Client = httpx.AsyncClient

PLAN = [
    {"id": "s1", "description": "Write the greeting", "status": "pending"},
    {"id": "s2", "description": "Check it", "status": "pending"},
]


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def call(name: str, call_id: str, **arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "name": name, "arguments": arguments}


def done(steps: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{**step, "status": "completed"} for step in steps]


async def settled(client: Client, task_id: str) -> dict[str, Any]:
    """The task once its run has ended (its event stream closes with ``done``)."""
    events = await client.get(f"/api/tasks/{task_id}/events")
    assert events.status_code == 200, events.text
    assert_well_formed(parse(events.text))
    response = await client.get(f"/api/tasks/{task_id}")
    assert response.status_code == 200
    return dict(response.json())


async def test_a_task_plans_works_and_finishes_with_a_result(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(
        {"text": "Planning. ", "tool_calls": [call("update_plan", "p1", steps=PLAN)]},
        {"tool_calls": [call("update_plan", "p2", steps=done(PLAN))]},
        {"tool_calls": [call("finish_task", "f1", success=True, summary="Greeted the world")]},
    )
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    created = await client.post(
        f"/api/sessions/{sid}/tasks",
        json={"description": "Say hello to the world", "run_mode": "offline"},
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert task["status"] in ("queued", "running", "completed")
    assert task["session_id"] == sid and task["run_mode"] == "offline"
    assert task["name"] == "Say hello to the world"

    ended = await settled(client, task["id"])
    assert ended["status"] == "completed"
    assert ended["result"] == {"success": True, "summary": "Greeted the world"}
    assert ended["plan"] == {"steps": done(PLAN)}
    assert ended["iterations"] == 3  # the turn stopped at finish_task: no fourth call
    assert ended["completed_at"] is not None and ended["started_at"] is not None
    assert fake_llm.stats().requests == 3

    # The model was offered the task's tools, and told how to work.
    sent = fake_llm.stats().last_requests[0].body
    offered = {tool["function"]["name"] for tool in sent["tools"]}
    assert {"update_plan", "finish_task", "add_artifact"} <= offered
    assert "finish_task" in sent["messages"][0]["content"]

    events = parse((await client.get(f"/api/tasks/{task['id']}/events")).text)
    assert events[0].data["kind"] == "task"
    assert [e.data["plan"]["steps"][0]["status"] for e in events if e.event == "plan_update"] == [
        "pending",
        "completed",
    ]
    session = (await client.get(f"/api/sessions/{sid}")).json()
    assert session["task_count"] == 1
    assert session["tasks"] == [
        {
            "id": task["id"],
            "name": "Say hello to the world",
            "description": "Say hello to the world",
            "status": "completed",
            "iterations": 3,
            "created_at": ended["created_at"],
            "completed_at": ended["completed_at"],
        }
    ]
    listed_sessions = (await client.get("/api/sessions")).json()["data"]
    assert [s["task_count"] for s in listed_sessions if s["id"] == sid] == [1]
    listed = (await client.get(f"/api/sessions/{sid}/tasks")).json()
    assert [t["id"] for t in listed["data"]] == [task["id"]]


async def test_a_chat_turn_is_not_offered_the_task_tools(client: Client, fake_llm: FakeLLM) -> None:
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    response = await client.post(f"/api/sessions/{sid}/messages", json={"content": "hi"})
    assert response.status_code == 200
    offered = {t["function"]["name"] for t in fake_llm.stats().last_requests[-1].body["tools"]}
    assert "update_plan" in offered
    assert not {"finish_task", "add_artifact"} & offered


async def test_a_task_that_ends_without_a_report_failed_with_its_last_answer(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "I looked around and stopped."})
    task = (await client.post("/api/tasks", json={"description": "Look around"})).json()
    ended = await settled(client, task["id"])
    assert ended["status"] == "failed"
    assert ended["result"] == {"success": False, "summary": "I looked around and stopped."}


async def test_a_task_reporting_failure_is_failed(client: Client, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies(
        {"tool_calls": [call("finish_task", "f", success=False, summary="No network here")]}
    )
    task = (await client.post("/api/tasks", json={"description": "Download it"})).json()
    ended = await settled(client, task["id"])
    assert ended["status"] == "failed"
    assert ended["result"] == {"success": False, "summary": "No network here"}


async def test_max_iterations_fails_the_task_with_the_error(
    client: Client, fake_llm: FakeLLM
) -> None:
    looping = {"tool_calls": [call("update_plan", "p", steps=PLAN)]}
    fake_llm.add_replies(looping, looping, looping)
    task = (
        await client.post("/api/tasks", json={"description": "Loop", "max_iterations": 2})
    ).json()
    events = parse((await client.get(f"/api/tasks/{task['id']}/events")).text)
    errors = [e.data for e in events if e.event == "error"]
    assert errors and errors[0]["code"] == "MAX_ITERATIONS_REACHED"
    ended = (await client.get(f"/api/tasks/{task['id']}")).json()
    assert ended["status"] == "failed" and ended["iterations"] == 2
    assert ended["result"]["success"] is False
    assert fake_llm.stats().requests == 2


async def test_a_pending_task_starts_later_and_runs_again_after_it_ended(
    client: Client, fake_llm: FakeLLM
) -> None:
    created = await client.post(
        "/api/tasks", json={"name": "Later", "description": "Do it later", "start": False}
    )
    task = created.json()
    assert created.status_code == 201 and task["status"] == "pending"
    assert task["turn_id"] is None and task["started_at"] is None
    events = await client.get(f"/api/tasks/{task['id']}/events")
    assert events.status_code == 400 and code(events) == "INVALID_REQUEST"
    assert fake_llm.stats().requests == 0

    fake_llm.add_replies({"tool_calls": [call("finish_task", "a", success=False, summary="1")]})
    started = await client.post(f"/api/tasks/{task['id']}/start")
    assert started.status_code == 200, started.text
    first = (await settled(client, task["id"]))["turn_id"]

    fake_llm.add_replies({"tool_calls": [call("finish_task", "b", success=True, summary="2")]})
    again = await client.post(f"/api/tasks/{task['id']}/start")
    assert again.status_code == 200
    ended = await settled(client, task["id"])
    assert ended["turn_id"] != first
    assert ended["status"] == "completed" and ended["result"]["summary"] == "2"


async def test_stopping_a_running_task_answers_stopped(client: Client, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "slow " * 50, "token_delay_ms": 100})
    task = (await client.post("/api/tasks", json={"description": "Take your time"})).json()
    await fake_llm.wait_for(lambda stats: stats.requests >= 1)
    busy = await client.post(f"/api/tasks/{task['id']}/start")
    assert busy.status_code == 409 and code(busy) == "TASK_IN_PROGRESS"
    stopped = await client.post(f"/api/tasks/{task['id']}/stop")
    assert stopped.status_code == 200
    assert stopped.json()["id"] == task["id"] and stopped.json()["status"] == "stopped"
    assert stopped.json()["result"]["success"] is False
    again = await client.post(f"/api/tasks/{task['id']}/cancel")
    assert again.status_code == 200 and again.json()["status"] == "stopped"


async def test_listing_filters_and_clear_deletes_only_finished_tasks(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"tool_calls": [call("finish_task", "a", success=True, summary="ok")]})
    finished = (await client.post("/api/tasks", json={"description": "Quick"})).json()
    await settled(client, finished["id"])
    pending = (
        await client.post("/api/tasks", json={"description": "Not yet", "start": False})
    ).json()

    everything = (await client.get("/api/tasks")).json()["data"]
    assert [t["id"] for t in everything] == [pending["id"], finished["id"]]
    only = (await client.get("/api/tasks", params={"status": "completed"})).json()["data"]
    assert [t["id"] for t in only] == [finished["id"]]
    bad = await client.get("/api/tasks", params={"status": "sleeping"})
    assert bad.status_code == 422
    page = (await client.get("/api/tasks", params={"limit": 1})).json()
    assert page["has_more"] is True and page["next_cursor"] == pending["id"]
    rest = (await client.get("/api/tasks", params={"before": page["next_cursor"]})).json()
    assert [t["id"] for t in rest["data"]] == [finished["id"]]

    cleared = await client.post("/api/tasks/clear")
    assert cleared.status_code == 200 and cleared.json() == {"cleared": 1}
    assert (await client.get(f"/api/tasks/{finished['id']}")).status_code == 404
    assert (await client.get(f"/api/tasks/{pending['id']}")).status_code == 200
    session = (await client.get(f"/api/sessions/{finished['session_id']}")).json()
    assert session["task_count"] == 0


async def test_another_users_task_is_not_found(
    open_app: tuple[Any, Client], fake_llm: FakeLLM
) -> None:
    _, client = open_app
    a = (await account(client, "a@example.com")).headers
    b = (await account(client, "b@example.com")).headers
    made = await client.post("/api/tasks", headers=a, json={"description": "Mine", "start": False})
    task = made.json()
    for method, path in (
        ("GET", f"/api/tasks/{task['id']}"),
        ("POST", f"/api/tasks/{task['id']}/start"),
        ("POST", f"/api/tasks/{task['id']}/stop"),
        ("DELETE", f"/api/tasks/{task['id']}"),
        ("GET", f"/api/tasks/{task['id']}/artifacts"),
        ("GET", f"/api/tasks/{task['id']}/artifacts/log.txt"),
        ("GET", f"/api/tasks/{task['id']}/events"),
    ):
        response = await client.request(method, path, headers=b)
        assert response.status_code == 404, (method, path)
        assert code(response) == "TASK_NOT_FOUND"
    assert (await client.get("/api/tasks", headers=b)).json()["data"] == []
    assert (await client.post("/api/tasks/clear", headers=b)).json() == {"cleared": 0}
    assert fake_llm.stats().requests == 0
    elsewhere = await client.post(
        f"/api/sessions/{task['session_id']}/tasks", headers=b, json={"description": "Theirs"}
    )
    assert elsewhere.status_code == 404 and code(elsewhere) == "SESSION_NOT_FOUND"
    still = await client.get(f"/api/tasks/{task['id']}", headers=a)
    assert still.status_code == 200 and still.json()["status"] == "pending"


async def test_bad_task_input_is_refused_and_nothing_is_stored(client: Client) -> None:
    for body in (
        {},
        {"description": ""},
        {"description": "   "},
        {"description": 12},
        {"description": "x", "max_iterations": 0},
        {"description": "x", "max_iterations": 10_000},
        {"description": "x", "start": "yes"},
        {"description": "x\u0000"},
    ):
        response = await client.post("/api/tasks", json=body)
        assert response.status_code == 422, body
        assert code(response) == "VALIDATION_ERROR"
    sessions = (await client.get("/api/sessions")).json()["data"]
    unknown = await client.post("/api/tasks", json={"description": "x", "agent": "nobody"})
    assert unknown.status_code == 404 and code(unknown) == "AGENT_NOT_FOUND"
    # Refused at its start: no task, and no session made for it, is left behind.
    assert (await client.get("/api/tasks")).json()["data"] == []
    assert (await client.get("/api/sessions")).json()["data"] == sessions
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    model = await client.post(
        f"/api/sessions/{sid}/tasks", json={"description": "x", "model": "fake/nothing"}
    )
    assert model.status_code == 404
    assert (await client.get(f"/api/sessions/{sid}")).json()["task_count"] == 0
    missing = await client.get("/api/tasks/task_01jd3x0000000000000000zzzz")
    assert missing.status_code == 404 and code(missing) == "TASK_NOT_FOUND"
    malformed = await client.get("/api/tasks/nope")
    assert malformed.status_code == 404


async def test_a_task_in_a_project_yields_its_diff_plan_log_and_kept_files(
    client: Client, fake_llm: FakeLLM
) -> None:
    project = await new_project(client, "Greeter")
    root = Path(project["path"])
    (root / "hello.txt").write_text("hello\n")
    (root / "notes.txt").write_text("the user's draft\n")
    git(root, "init", "-q", ".")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "start")
    # The user's uncommitted work when the task starts: not the task's change.
    (root / "notes.txt").write_text("the user's draft, edited\n")
    fake_llm.add_replies(
        {"tool_calls": [call("update_plan", "p", steps=PLAN)]},
        {
            "tool_calls": [
                call("edit_file", "e", path="hello.txt", old_text="hello", new_text="hello world"),
                call("write_file", "w", path="out/report.md", content="# Report\n"),
            ]
        },
        {"tool_calls": [call("add_artifact", "a", path="out/report.md")]},
        {"tool_calls": [call("finish_task", "f", success=True, summary="Done")]},
    )
    created = await client.post(
        "/api/tasks", json={"description": "Greet the world", "project_id": project["id"]}
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert task["project_id"] == project["id"]
    ended = await settled(client, task["id"])
    assert ended["status"] == "completed", ended

    listed = await client.get(f"/api/tasks/{task['id']}/artifacts")
    assert listed.status_code == 200
    by_name = {a["name"]: a for a in listed.json()["data"]}
    assert set(by_name) == {"plan.json", "diff.patch", "log.txt", "out/report.md"}
    assert by_name["out/report.md"]["type"] == "file" and by_name["out/report.md"]["size"] == 9

    patch = await client.get(f"/api/tasks/{task['id']}/artifacts/diff.patch")
    assert patch.status_code == 200
    assert patch.headers["content-type"].startswith("text/x-diff")
    assert "filename*=UTF-8''diff.patch" in patch.headers["content-disposition"]
    assert "+hello world" in patch.text and "-hello" in patch.text
    assert "+# Report" in patch.text
    assert "notes.txt" not in patch.text
    # The project's own repository was neither read into nor written to.
    status = git(root, "status", "--porcelain")
    assert sorted(status.split("\n")) == ["", " M hello.txt", " M notes.txt", "?? out/"]

    report = await client.get(f"/api/tasks/{task['id']}/artifacts/{by_name['out/report.md']['id']}")
    assert report.status_code == 200 and report.content == b"# Report\n"
    assert report.headers["content-type"].startswith("text/markdown")
    assert "attachment" in report.headers["content-disposition"]
    # Changed after the task kept it: the artifact is what the task kept.
    (root / "out" / "report.md").write_text("changed later\n")
    again = await client.get(f"/api/tasks/{task['id']}/artifacts/out/report.md")
    assert again.status_code == 200 and again.content == b"# Report\n"

    plan = await client.get(f"/api/tasks/{task['id']}/artifacts/plan.json")
    assert plan.status_code == 200 and plan.json() == {"steps": PLAN}
    log = await client.get(f"/api/tasks/{task['id']}/artifacts/log.txt")
    assert log.status_code == 200 and "finish_task" in log.text and "edit_file" in log.text
    missing = await client.get(f"/api/tasks/{task['id']}/artifacts/nothing.bin")
    assert missing.status_code == 404 and code(missing) == "ARTIFACT_NOT_FOUND"

    # Edits after the task ended do not join its diff.
    (root / "hello.txt").write_text("rewritten by the user\n")
    later = await client.get(f"/api/tasks/{task['id']}/artifacts/diff.patch")
    assert later.text == patch.text


async def test_deleting_a_running_task_stops_it_and_keeps_its_session(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "slow " * 50, "token_delay_ms": 100})
    task = (await client.post("/api/tasks", json={"description": "Long"})).json()
    await fake_llm.wait_for(lambda stats: stats.requests >= 1)
    deleted = await client.delete(f"/api/tasks/{task['id']}")
    assert deleted.status_code == 204
    assert (await client.get(f"/api/tasks/{task['id']}")).status_code == 404
    session = await client.get(f"/api/sessions/{task['session_id']}")
    assert session.status_code == 200 and session.json()["task_count"] == 0
    turns = (await client.get(f"/api/sessions/{task['session_id']}/turns")).json()["data"]
    assert turns[0]["status"] == "cancelled"
    await asyncio.sleep(0)


async def test_a_task_whose_model_fails_ends_failed_with_the_error(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"fault": 400})
    task = (await client.post("/api/tasks", json={"description": "Doomed"})).json()
    ended = await settled(client, task["id"])
    assert ended["status"] == "failed"
    assert ended["result"]["success"] is False and ended["result"]["summary"]
    events = parse((await client.get(f"/api/tasks/{task['id']}/events")).text)
    assert [e.data["code"] for e in events if e.event == "error"] == ["UPSTREAM_ERROR"]


async def test_a_project_that_is_not_a_repository_gets_its_diff_too(
    client: Client, fake_llm: FakeLLM
) -> None:
    project = await new_project(client, "Plain")
    root = Path(project["path"])
    (root / "notes.txt").write_text("one\n")
    fake_llm.add_replies(
        {"tool_calls": [call("write_file", "w", path="notes.txt", content="one\ntwo\n")]},
        {"tool_calls": [call("finish_task", "f", success=True, summary="Added a line")]},
    )
    created = await client.post(
        "/api/tasks", json={"description": "Add a line", "project_id": project["id"]}
    )
    await settled(client, created.json()["id"])
    patch = await client.get(f"/api/tasks/{created.json()['id']}/artifacts/diff.patch")
    assert patch.status_code == 200
    assert "--- a/notes.txt" in patch.text and "+two" in patch.text
    assert not (root / ".git").exists()  # Roost's snapshot lives in its own home


async def test_floyds_browork_paths_answer_in_floyds_shape(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"tool_calls": [call("finish_task", "f", success=True, summary="Done")]})
    made = await client.post(
        "/api/browork/tasks", json={"name": "Analyse", "description": "Analyse the code"}
    )
    assert made.status_code == 201, made.text
    task = made.json()
    assert task["status"] == "pending" and task["result"] is None
    assert isinstance(task["created"], int) and task["created"] > 1_700_000_000_000
    listed = (await client.get("/api/browork/tasks")).json()
    assert [t["id"] for t in listed["tasks"]] == [task["id"]] == [t["id"] for t in listed["data"]]
    started = await client.post(f"/api/browork/tasks/{task['id']}/start")
    assert started.status_code == 200
    await settled(client, task["id"])
    shown = (await client.get(f"/api/browork/tasks/{task['id']}")).json()
    assert shown["status"] == "completed" and shown["result"] == "Done" and shown["success"]
    cancelled = await client.post(f"/api/browork/tasks/{task['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "completed"
    assert (await client.post("/api/browork/clear")).json() == {"success": True, "cleared": 1}
    other = (await client.post("/api/browork/tasks", json={"description": "x"})).json()
    deleted = await client.delete(f"/api/browork/tasks/{other['id']}")
    assert deleted.status_code == 200 and deleted.json() == {"success": True}
    assert (await client.get("/api/browork/tasks")).json()["tasks"] == []
