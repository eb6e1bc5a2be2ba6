"""Agents over HTTP: CoAgent's shapes, versions on every change, the server's agents
from roost.toml (read-only to non-admins), and turns that record the version they ran."""

from typing import Any

import httpx
import pytest

from roost.config import AgentSettings, Settings
from roost.testing import FakeLLM
from tests.support.admin import admin_team, error_code
from tests.support.apps import running
from tests.support.turns import new_session, send

Client = httpx.AsyncClient

SUPPORT = {
    "name": "customer-support-agent",
    "description": "Agent for handling customer support queries",
    "preamble": "You are a helpful customer support assistant.",
}


async def make(client: Client, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/agents", json={**SUPPORT, **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_an_agent_is_made_read_listed_and_deleted_in_coagents_shapes(client: Client) -> None:
    made = await make(client, model_ref={"provider_id": "openai", "model_name": "fake-large"})
    assert made["id"].startswith("agent_")
    assert made["version"] == 1 and made["shared"] is False
    assert made["model_ref"] == {"provider_id": "openai", "model_name": "fake-large"}
    assert made["model"] == "openai/fake-large"
    assert made["tools"] is None and made["skills"] == []
    assert made["created_at"].endswith("Z")

    by_id = (await client.get(f"/api/v1/agents/{made['id']}")).json()
    by_name = (await client.get("/api/agents/customer-support-agent")).json()
    assert by_id == by_name == made

    listed = (await client.get("/api/v1/agents")).json()
    assert listed["agents"] == listed["data"]
    names = [agent["name"] for agent in listed["agents"]]
    assert names == sorted(names) and {"assistant", "customer-support-agent"} <= set(names)

    assert (await client.delete(f"/api/agents/{made['id']}")).status_code == 204
    gone = await client.get(f"/api/agents/{made['id']}")
    assert gone.status_code == 404 and error_code(gone) == "AGENT_NOT_FOUND"


async def test_names_are_unique_and_inputs_are_checked(client: Client) -> None:
    await make(client)
    again = await client.post("/api/agents", json=SUPPORT)
    assert again.status_code == 409 and error_code(again) == "ALREADY_EXISTS"
    for bad in (
        {"name": "x"},  # no preamble
        {"preamble": "p"},  # no name
        {"name": "has space", "preamble": "p"},
        {"name": "n" * 101, "preamble": "p"},
        {"name": "ok", "preamble": "p", "temperature": 3},
        {"name": "ok", "preamble": "p", "max_iterations": 0},
        {"name": "ok", "preamble": "p", "tools": "some"},
        {"name": "ok", "preamble": "p", "model": "a/b", "model_ref": {"provider_id": "a"}},
        {"name": "ok", "preamble": "nul\x00"},
    ):
        response = await client.post("/api/agents", json=bad)
        assert response.status_code == 422, (bad, response.text)
        assert error_code(response) == "VALIDATION_ERROR"
    assert len((await client.get("/api/agents")).json()["data"]) == 2  # assistant + one


async def test_every_change_is_a_new_version_and_old_versions_stay(client: Client) -> None:
    made = await make(client, tools=["read_file"])
    patched = (
        await client.patch(
            f"/api/agents/{made['id']}", json={"preamble": "Be brief.", "tools": "none"}
        )
    ).json()
    assert patched["version"] == 2 and patched["preamble"] == "Be brief." and patched["tools"] == []
    assert patched["description"] == SUPPORT["description"]  # PATCH keeps what was not sent

    same = await client.patch(f"/api/agents/{made['id']}", json={"preamble": "Be brief."})
    assert same.json()["version"] == 2  # nothing changed, no version

    replaced = (
        await client.put(
            f"/api/agents/{made['id']}", json={"name": "support", "preamble": "Replaced."}
        )
    ).json()
    assert replaced["version"] == 3 and replaced["name"] == "support"
    assert replaced["description"] == "" and replaced["tools"] is None  # PUT: defaults

    versions = (await client.get("/api/agents/support/versions")).json()["data"]
    assert [v["version"] for v in versions] == [3, 2, 1]
    first = (await client.get("/api/agents/support/versions/1")).json()
    assert first["preamble"] == SUPPORT["preamble"] and first["tools"] == ["read_file"]
    assert first["name"] == "customer-support-agent"
    missing = await client.get("/api/agents/support/versions/9")
    assert missing.status_code == 404 and error_code(missing) == "AGENT_VERSION_NOT_FOUND"
    page = (await client.get("/api/agents/support/versions", params={"limit": 2})).json()
    assert [v["version"] for v in page["data"]] == [3, 2] and page["next_cursor"] == "2"
    rest = await client.get("/api/agents/support/versions", params={"before": 2})
    assert [v["version"] for v in rest.json()["data"]] == [1]


async def test_a_turn_runs_and_records_its_agents_version(
    client: Client, fake_llm: FakeLLM
) -> None:
    made = await make(client, preamble="PREAMBLE-ONE", temperature=0.2)
    sid = await new_session(client, agent=SUPPORT["name"])
    first = (await send(client, sid, "hello"))["turn"]
    assert first["agent"] == SUPPORT["name"] and first["agent_version"] == 1
    request = fake_llm.stats().last_request.body
    assert "PREAMBLE-ONE" in str(request["messages"][0])
    assert request["temperature"] == 0.2

    await client.patch(f"/api/agents/{made['id']}", json={"preamble": "PREAMBLE-TWO"})
    second = (await send(client, sid, "again"))["turn"]
    assert second["agent_version"] == 2
    assert "PREAMBLE-TWO" in str(fake_llm.stats().last_request.body["messages"][0])
    shown = (await client.get(f"/api/sessions/{sid}/turns/{first['id']}")).json()
    assert shown["agent_version"] == 1


async def test_an_agents_skills_join_its_turns(client: Client, fake_llm: FakeLLM) -> None:
    skill = {"name": "Haiku", "instructions": "SKILL-HAIKU: answer in haiku."}
    assert (await client.post("/api/skills", json=skill)).status_code == 201
    await make(client, skills=["haiku"])  # by name, in any case
    sid = await new_session(client, agent=SUPPORT["name"])
    await send(client, sid, "hello")
    assert "SKILL-HAIKU" in str(fake_llm.stats().last_request.body["messages"][0])
    plain = await new_session(client)
    await send(client, plain, "hello")
    assert "SKILL-HAIKU" not in str(fake_llm.stats().last_request.body["messages"])


async def test_the_server_agents_come_from_roost_toml_and_only_admins_change_them(
    settings: Settings,
) -> None:
    settings = settings.model_copy(
        update={"agents": {"coder": AgentSettings(description="Writes code", preamble="Code.")}}
    )
    async with admin_team(settings) as team:
        client, admin = team.client, team.admin
        member = await team.member("member@example.com")
        roles = (await client.get("/api/config/roles", headers=member.headers)).json()
        assert {r["name"] for r in roles["roles"]} >= {"assistant", "coder"}
        coder = (await client.get("/api/agents/coder", headers=member.headers)).json()
        assert coder["shared"] is True and coder["description"] == "Writes code"

        refused = await client.patch(
            "/api/agents/coder", json={"preamble": "Mine now"}, headers=member.headers
        )
        assert refused.status_code == 403 and error_code(refused) == "FORBIDDEN"
        shared = await client.post(
            "/api/agents", json={**SUPPORT, "shared": True}, headers=member.headers
        )
        assert shared.status_code == 403

        # A member's own agent of the same name comes first for them, not for others.
        mine = await client.post(
            "/api/agents", json={"name": "coder", "preamble": "Mine."}, headers=member.headers
        )
        assert mine.status_code == 201
        seen = (await client.get("/api/agents/coder", headers=member.headers)).json()
        assert seen["preamble"] == "Mine."
        other = await team.member("other@example.com")
        assert (await client.get("/api/agents/coder", headers=other.headers)).json()["shared"]
        hidden = await client.get(f"/api/agents/{seen['id']}", headers=other.headers)
        assert hidden.status_code == 404

        changed = await client.patch(
            f"/api/agents/{coder['id']}", json={"preamble": "Admin's."}, headers=admin.headers
        )
        assert changed.status_code == 200 and changed.json()["version"] == 2


async def test_seeding_writes_a_version_only_when_roost_toml_changes(settings: Settings) -> None:
    first = settings.model_copy(update={"agents": {"coder": AgentSettings(preamble="One.")}})
    async with running(first) as (app, client):
        assert (await client.get("/api/agents/coder")).json()["version"] == 1
        assert await app.state.services.agents.seed() == 0  # unchanged: nothing written
    second = settings.model_copy(update={"agents": {"coder": AgentSettings(preamble="Two.")}})
    async with running(second) as (_app, client):
        coder = (await client.get("/api/agents/coder")).json()
        assert coder["version"] == 2 and coder["preamble"] == "Two."


@pytest.mark.parametrize("field", ["agent", "model_role"])
async def test_tasks_jobs_and_sessions_name_only_existing_agents(
    client: Client, field: str
) -> None:
    response = await client.post("/api/sessions", json={field: "ghost"})
    assert response.status_code == 404 and error_code(response) == "AGENT_NOT_FOUND"
    job = await client.post(
        "/api/scheduler/jobs",
        json={"name": "j", "interval_seconds": 60, "prompt": "p", "agent": "ghost"},
    )
    assert job.status_code == 404 and error_code(job) == "AGENT_NOT_FOUND"
    task = await client.post("/api/tasks", json={"description": "d", "agent": "ghost"})
    assert task.status_code == 404 and error_code(task) == "AGENT_NOT_FOUND"
