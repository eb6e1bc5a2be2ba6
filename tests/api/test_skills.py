"""Skills: listed with the built-in ones, changed, switched on, and brought in by a word."""

import httpx

from roost.testing import FakeLLM
from tests.support.sse import assert_well_formed, parse

Client = httpx.AsyncClient


async def test_the_built_in_skills_are_listed_once(client: Client) -> None:
    first = (await client.get("/api/skills")).json()
    again = (await client.get("/api/skills")).json()
    names = [s["name"] for s in first["skills"]]
    assert "Code Review" in names and first["skills"] == again["skills"] == first["data"]
    review = next(s for s in first["skills"] if s["name"] == "Code Review")
    assert review["builtin"] is True and review["is_active"] is False
    assert "review" in review["triggers"]


async def test_create_update_activate_delete(client: Client) -> None:
    created = await client.post(
        "/api/skills",
        json={
            "name": "Pirate",
            "instructions": "Talk like a pirate.",
            "triggers": ["arr"],
            "category": "fun",
            "icon": "🏴‍☠️",
        },
    )
    assert created.status_code == 201
    skill = created.json()
    assert skill["id"].startswith("skill_") and skill["enabled"] is True
    changed = await client.put(f"/api/skills/{skill['id']}", json={"description": "Ahoy"})
    assert changed.json()["description"] == "Ahoy" and changed.json()["name"] == "Pirate"
    active = await client.post(f"/api/skills/{skill['id']}/activate")
    assert active.json()["is_active"] is True
    listed = (await client.get("/api/skills/active")).json()["skills"]
    assert [s["name"] for s in listed] == ["Pirate"]
    await client.post(f"/api/skills/{skill['id']}/deactivate")
    assert (await client.get("/api/skills/active")).json()["skills"] == []
    assert (await client.delete(f"/api/skills/{skill['id']}")).status_code == 204
    assert (await client.get(f"/api/skills/{skill['id']}")).status_code == 404


async def test_built_in_skills_can_be_disabled_not_deleted(client: Client) -> None:
    review = next(
        s for s in (await client.get("/api/skills")).json()["skills"] if s["name"] == "Code Review"
    )
    assert (await client.delete(f"/api/skills/{review['id']}")).status_code == 400
    off = await client.put(f"/api/skills/{review['id']}", json={"enabled": False})
    assert off.json()["enabled"] is False


async def test_bad_skills_are_refused(client: Client) -> None:
    for body in (
        {},
        {"name": ""},
        {"name": 5},
        {"name": "x", "triggers": "review"},
        {"name": "x", "instructions": "a\x00b"},
        {"name": "x", "triggers": [""]},
    ):
        response = await client.post("/api/skills", json=body)
        assert response.status_code == 422, body
    assert (await client.get("/api/skills/skill_01m8a97z54byzvm9agg9cemc09")).status_code == 404
    assert (await client.post("/api/skills/nope/activate")).status_code == 404


async def test_active_skills_join_every_turn(client: Client, fake_llm: FakeLLM) -> None:
    skill = (
        await client.post("/api/skills", json={"name": "Pirate", "instructions": "Say arr."})
    ).json()
    await client.post(f"/api/skills/{skill['id']}/activate")
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    await client.post(f"/api/sessions/{sid}/messages", json={"content": "hello"})
    system = fake_llm.stats().last_requests[-1].body["messages"][0]["content"]
    assert "## Skill: Pirate" in system and "Say arr." in system


async def test_a_trigger_brings_a_skill_into_that_turn_only(
    client: Client, fake_llm: FakeLLM
) -> None:
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    response = await client.post(
        f"/api/sessions/{sid}/messages",
        json={"content": "Please review this function", "stream": True},
    )
    events = parse(response.text)
    assert_well_formed(events)
    status = [e.data for e in events if e.event == "status"]
    assert status == [{**status[0], "status": "skill", "message": "Using skill: Code Review"}]
    assert (
        "## Skill: Code Review" in fake_llm.stats().last_requests[-1].body["messages"][0]["content"]
    )
    await client.post(f"/api/sessions/{sid}/messages", json={"content": "thanks, previewing"})
    assert "Code Review" not in fake_llm.stats().last_requests[-1].body["messages"][0]["content"]
