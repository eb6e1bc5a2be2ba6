"""Another user's things do not exist for you: every route, walked as user B over
user A's objects, answers 404 (or an empty list) and never shows them.

The walk reads the OpenAPI document, so routes added later are checked too.
"""

from typing import Any

import httpx
import pytest

from tests.support.accounts import Account, account
from tests.support.admin import error_code
from tests.support.bodies import body_for

# Routes where B acts on B's own behalf (making B's things, B's login): nothing of A's.
OWN_ACCOUNT = ("/api/auth/", "/api/me", "/api/settings", "/api/test-key")
# A body each kind of route accepts, so that what answers is the ownership check.
BODIES: dict[str, Any] = {
    "messages": {"content": "hi"},
    "{message_id}": {"content": "hi"},
    "rename": {"customTitle": "x", "from": "a", "to": "b"},
    "pin": {"pinned": True},
    "folder": {"folder": "x"},
    "archive": {"archived": True},
    "input": {"request_id": "inp_01jd3x0000000000000000000a", "approve": True},
    "files": {"type": "snippet", "name": "x", "content": "y"},
    "file": {"path": "x", "content": "y"},
    "mkdir": {"path": "x"},
    "tasks": {"description": "x"},
    "prompt": {"prompt": "x"},
    "{agent_ref}": {"name": "x", "preamble": "y"},
    "runs": {"preamble": "x", "prompt": "y", "configurations": [{"preamble": "x"}]},
    "{testset_id}": {"name": "x"},
    "cases": {"input": "x"},
    "memories": {"content": "x"},
    "search": {"query": "x"},
    "{memory_id}": {"content": "x"},
    "{case_id}": {"input": "x"},
    "completions": {"model": "roost/assistant", "messages": [{"role": "user", "content": "x"}]},
    "responses": {"model": "roost/assistant", "input": "x"},
}
# Routes only admins may use: a member's call is refused before any lookup.
ADMIN_ONLY = ("/api/admin", "/api/projects/locations/")


@pytest.fixture
async def world(open_app: tuple[Any, httpx.AsyncClient]) -> Any:
    app, client = open_app
    admin = await account(client, "root@example.com")
    a = await account(client, "a@example.com")
    b = await account(client, "b@example.com")
    return app, client, admin, a, b


async def belongings(client: httpx.AsyncClient, a: Account) -> dict[str, str]:
    """A's session with a folder, messages, a finished turn, an API key, a skill, a
    project, a task, a scheduled job, an agent, a run, a test set and its evaluation."""
    sid = (
        await client.post(
            "/api/sessions",
            headers=a.headers,
            json={"title": "A-secret", "folder": "A-folder", "working_directory": "/a"},
        )
    ).json()["id"]
    sent = (
        await client.post(
            f"/api/sessions/{sid}/messages", headers=a.headers, json={"content": "A-words"}
        )
    ).json()
    key = (
        await client.post("/api/auth/api-keys", headers=a.headers, json={"name": "A-key"})
    ).json()
    skill = (
        await client.post(
            "/api/skills", headers=a.headers, json={"name": "A-skill", "instructions": "A-words"}
        )
    ).json()
    project = (
        await client.post(
            "/api/projects", headers=a.headers, json={"name": "A-secret", "description": "A-words"}
        )
    ).json()
    task = (
        await client.post(
            "/api/tasks",
            headers=a.headers,
            json={"name": "A-secret", "description": "A-words", "start": False},
        )
    ).json()
    job = await client.post(
        "/api/scheduler/jobs",
        headers=a.headers,
        json={"name": "A-job", "schedule": "0 9 * * *", "prompt": "A-words", "enabled": False},
    )
    assert job.status_code == 201, job.text
    agent = await client.post(
        "/api/agents", headers=a.headers, json={"name": "A-agent", "preamble": "A-words"}
    )
    assert agent.status_code == 201, agent.text
    run = await client.post(
        "/api/runs",
        headers=a.headers,
        json={"run_id": "A-run", "preamble": "A-words", "prompt": "A-words"},
    )
    assert run.status_code == 200, run.text
    testset = await client.post(
        "/api/testsets",
        headers=a.headers,
        json={"name": "A-secret", "cases": [{"id": "A-case", "input": "A-words"}]},
    )
    assert testset.status_code == 201, testset.text
    evaluation = await client.post(
        f"/api/testsets/{testset.json()['id']}/runs",
        headers=a.headers,
        json={"configurations": [{"preamble": "A-words"}]},
    )
    assert evaluation.status_code == 202, evaluation.text
    memory = await client.post(
        f"/api/sessions/{sid}/memories", headers=a.headers, json={"content": "A-words"}
    )
    assert memory.status_code == 201, memory.text
    return {
        "{memory_id}": memory.json()["id"],
        "{testset_id}": testset.json()["id"],
        "{eval_id}": evaluation.json()["id"],
        "{case_id}": "A-case",
        "{run_ref}": "A-run",
        "{agent_ref}": agent.json()["id"],
        "{number}": "1",
        "{name}": "A-job",
        "{task_id}": task["id"],
        "{artifact_id}": "log.txt",
        "{project_id}": project["id"],
        "{path}": f"{project['id']}/logo.png",
        "{session_id}": sid,
        "{turn_id}": sent["turn"]["id"],
        "{response_id}": sent["turn"]["id"].replace("turn_", "resp_"),
        "{model}": "roost/A-agent",
        "{message_id}": sent["message"]["id"],
        "{key_id}": key["id"],
        "{skill_id}": skill["id"],
    }


def operations(app: Any) -> list[tuple[str, str]]:
    spec = app.openapi()
    return [(m.upper(), path) for path, ops in spec["paths"].items() for m in ops]


async def test_user_b_cannot_see_or_touch_user_a_things(world: Any) -> None:
    app, client, _admin, a, b = world
    ids = await belongings(client, a)
    checked = 0
    for method, path in operations(app):
        if (path.startswith(OWN_ACCOUNT) and "{" not in path) or path in ("/health",):
            continue
        url = path
        for placeholder, value in ids.items():
            url = url.replace(placeholder, value)
        body = body_for(BODIES, path) if method in ("POST", "PUT", "PATCH") else None
        response = await client.request(method, url, headers=b.headers, json=body)
        # MCP servers are the server's, not a user's: B may read them, only admins change them.
        mcp_write = path.startswith("/api/mcp/") and method != "GET"
        if path.startswith(ADMIN_ONLY) or mcp_write:
            assert response.status_code == 403, (method, path)
        elif path.startswith("/api/workspace/") and "{" in path:
            # B names no project and has none active: refused before any lookup.
            assert error_code(response) == "NO_ACTIVE_PROJECT", (method, path, response.text)
        elif "{" in path:
            assert response.status_code == 404, (method, path, response.status_code, response.text)
        else:
            assert response.status_code < 500, (method, path)
        echoed = [value for value in ids.values() if value in url]  # a 404 names what was asked
        secrets = ("A-secret", "A-folder", "A-words", "A-key", "A-skill", "A-agent", "A-case")
        named = [value for key, value in ids.items() if key not in ("{number}", "{case_id}")]
        for secret in (*secrets, *named):
            if not any(secret in value for value in echoed):
                assert secret not in response.text, (method, path, secret)
        checked += 1
    assert checked > 40
    still = await client.get(f"/api/sessions/{ids['{session_id}']}", headers=a.headers)
    assert still.status_code == 200 and still.json()["title"] == "A-secret"
    assert still.json()["message_count"] == 2


async def test_lists_searches_and_counts_show_only_your_own(world: Any) -> None:
    _app, client, _admin, a, b = world
    await belongings(client, a)
    for url in ("/api/sessions", "/api/chat-history", "/api/sessions/grouped", "/api/folders"):
        body = (await client.get(url, headers=b.headers)).json()
        assert "A-secret" not in str(body) and "A-folder" not in str(body), url
    taken = await client.post(
        "/api/sessions/get-or-create", headers=b.headers, json={"working_directory": "/a"}
    )
    assert taken.status_code == 201  # B's own session, not A's
    assert (await client.get("/api/auth/api-keys", headers=b.headers)).json()["data"] == []


async def test_the_admin_sees_everything_only_through_admin_routes(world: Any) -> None:
    _app, client, admin, a, _b = world
    ids = await belongings(client, a)
    plain = await client.get(f"/api/sessions/{ids['{session_id}']}", headers=admin.headers)
    assert plain.status_code == 404
