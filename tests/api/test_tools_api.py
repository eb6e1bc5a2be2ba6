"""Listing tools and running one directly (Floyd's /api/tools)."""

from typing import Any

import httpx

from roost.engine.tools.registry import Tool, ToolContext

Client = httpx.AsyncClient


async def test_tools_are_listed_in_both_shapes(app: Any, client: Client) -> None:
    async def shout(args: dict[str, Any], _context: ToolContext) -> str:
        return str(args["word"]).upper()

    schema = {"type": "object", "properties": {"word": {"type": "string"}}}
    app.state.services.tools.register(
        Tool("shout", "Shout a word", schema, shout, source="test", requires_approval=True)
    )
    body = (await client.get("/api/tools")).json()
    tools = {t["name"]: t for t in body["tools"]}
    assert body["tools"] == body["data"]
    assert tools["shout"]["inputSchema"] == tools["shout"]["input_schema"] == schema
    assert tools["shout"]["requires_approval"] is True and tools["shout"]["source"] == "test"
    assert tools["update_plan"]["source"] == "builtin"
    ran = await client.post("/api/tools/execute", json={"name": "shout", "args": {"word": "hi"}})
    assert ran.json()["success"] is True and ran.json()["result"] == "HI"


async def test_executing_returns_failures_as_answers(client: Client) -> None:
    unknown = await client.post("/api/tools/execute", json={"name": "nope", "args": {}})
    assert unknown.status_code == 200
    assert unknown.json()["success"] is False and "Unknown tool" in unknown.json()["error"]
    bad_plan = await client.post(
        "/api/tools/execute", json={"name": "update_plan", "args": {"steps": "all"}}
    )
    assert bad_plan.json()["success"] is False
    good = await client.post(
        "/api/tools/execute",
        json={
            "name": "update_plan",
            "args": {"steps": [{"description": "a", "status": "pending"}]},
        },
    )
    assert good.json()["success"] is True


async def test_bad_execute_bodies_are_refused(client: Client) -> None:
    for body in ({}, {"name": 5}, {"name": "x", "args": []}, {"name": "x" * 200}):
        response = await client.post("/api/tools/execute", json=body)
        assert response.status_code == 422, body
