"""Who may run commands: a tool that needs approval runs only in a turn (admins aside),
and without a working sandbox ``run_command`` is for admins only."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from roost.config import Settings
from roost.engine.tools.registry import Tool, ToolContext
from roost.testing import FakeLLM
from tests.support.admin import Team, admin_team, error_code
from tests.support.projects import exists, new_project

pytestmark = pytest.mark.located

MISSING_BWRAP = "/nonexistent/bwrap"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"run_command_enabled": True})


@pytest.fixture
async def unsandboxed(settings: Settings) -> AsyncIterator[Team]:
    """No sandbox, and no approval asked, so that only the admin rule is left."""
    changed = {"run_command_bwrap": MISSING_BWRAP, "tools_requiring_approval": []}
    async with admin_team(settings.model_copy(update=changed)) as made:
        yield made


def touching(project: dict[str, Any]) -> dict[str, Any]:
    args = {"command": "touch made"}
    return {"name": "run_command", "args": args, "project_id": project["id"]}


async def test_a_tool_needing_approval_is_refused_to_a_direct_call(team: Team) -> None:
    bob = await team.member("bob@example.com")
    project = await new_project(team.client, headers=bob.headers)
    refused = await team.client.post(
        "/api/tools/execute", json=touching(project), headers=bob.headers
    )
    assert refused.status_code == 403 and error_code(refused) == "APPROVAL_REQUIRED"
    assert refused.json()["error"]["details"] == {"tool": "run_command"}
    assert not exists(Path(project["path"]) / "made")


async def test_a_tool_asking_approval_of_its_own_is_refused_too(team: Team) -> None:
    async def shout(_args: dict[str, Any], _context: ToolContext) -> str:
        return "HI"

    tool = Tool("shout", "Shout", {"type": "object"}, shout, requires_approval=True)
    team.app.state.services.tools.register(tool)
    bob = await team.member("bob@example.com")
    body = {"name": "shout", "args": {}}
    refused = await team.client.post("/api/tools/execute", json=body, headers=bob.headers)
    assert refused.status_code == 403 and error_code(refused) == "APPROVAL_REQUIRED"
    allowed = await team.call("POST", "/api/tools/execute", json=body)
    assert allowed.status_code == 200 and allowed.json()["result"] == "HI"


async def test_an_admin_runs_a_tool_needing_approval_directly(team: Team) -> None:
    project = await new_project(team.client, headers=team.admin.headers)
    ran = await team.call("POST", "/api/tools/execute", json=touching(project))
    assert ran.status_code == 200 and ran.json()["success"] is True, ran.text
    assert exists(Path(project["path"]) / "made")


async def test_with_a_sandbox_everyone_is_told_commands_are_confined(team: Team) -> None:
    features = (await team.client.get("/api/features")).json()
    assert features["run_command_sandbox"] == "bubblewrap"
    assert features["run_command_admin_only"] is False
    bob = await team.member("bob@example.com")
    tools = (await team.client.get("/api/tools", headers=bob.headers)).json()["tools"]
    command = next(t for t in tools if t["name"] == "run_command")
    assert command["admin_only"] is False and command["requires_approval"] is True


async def test_without_a_sandbox_only_admins_run_commands(unsandboxed: Team) -> None:
    team = unsandboxed
    features = (await team.client.get("/api/features")).json()
    assert features["run_command_sandbox"] is None
    assert features["run_command_admin_only"] is True
    bob = await team.member("bob@example.com")
    tools = (await team.client.get("/api/tools", headers=bob.headers)).json()["tools"]
    assert next(t for t in tools if t["name"] == "run_command")["admin_only"] is True
    project = await new_project(team.client, headers=bob.headers)
    refused = await team.client.post(
        "/api/tools/execute", json=touching(project), headers=bob.headers
    )
    assert refused.status_code == 200 and refused.json()["success"] is False
    assert "Only admins may use run_command" in refused.json()["error"]
    assert not exists(Path(project["path"]) / "made")
    mine = await new_project(team.client, "Admin's", headers=team.admin.headers)
    ran = await team.call("POST", "/api/tools/execute", json=touching(mine))
    assert ran.json()["success"] is True, ran.text
    assert exists(Path(mine["path"]) / "made")


async def test_without_a_sandbox_an_ordinary_users_turn_is_not_offered_commands(
    unsandboxed: Team, fake_llm: FakeLLM
) -> None:
    team = unsandboxed
    offered: dict[str, list[str]] = {}
    bob = await team.member("bob@example.com")
    for account in (bob, team.admin):
        headers = account.headers
        made = await team.client.post("/api/sessions", json={}, headers=headers)
        sent = await team.client.post(
            f"/api/sessions/{made.json()['id']}/messages", json={"content": "hi"}, headers=headers
        )
        assert sent.status_code == 200, sent.text
        body = fake_llm.stats().last_requests[-1].body
        offered[account.email] = [tool["function"]["name"] for tool in body.get("tools", [])]
    assert "run_command" not in offered[bob.email] and "read_file" in offered[bob.email]
    assert "run_command" in offered[team.admin.email]
