"""The scheduler: jobs over HTTP, runs that are turns, the missed policy, and — with
two real servers on one PostgreSQL — each due time fired once."""

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from roost.clock import utcnow
from roost.store.models import ScheduledJob
from roost.testing import FakeLLM
from tests.support.live import fake_model_env, roost_process
from tests.support.projects import code

Client = httpx.AsyncClient


async def runs_of(client: Client, name: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/scheduler/jobs/{name}/runs")
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def until_runs(client: Client, name: str, wanted: Any, within: float = 10) -> list[Any]:
    async def poll() -> list[Any]:
        while True:
            runs = await runs_of(client, name)
            if wanted(runs):
                return runs
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), within)


async def test_jobs_are_made_read_changed_and_deleted_by_name(client: Client) -> None:
    created = await client.post(
        "/api/scheduler/jobs",
        json={
            "name": "daily",
            "schedule": "0 9 * * *",
            "timezone": "Europe/Paris",
            "prompt": "News?",
        },
    )
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["next_run_at"][11:19] in ("07:00:00", "08:00:00")  # 09:00 in Paris
    assert job["enabled"] is True and job["missed"] == "skip"
    again = await client.post(
        "/api/scheduler/jobs", json={"name": "daily", "interval_seconds": 60, "prompt": "x"}
    )
    assert again.status_code == 409 and code(again) == "ALREADY_EXISTS"

    changed = await client.patch("/api/scheduler/jobs/daily", json={"interval_seconds": 3600})
    assert changed.status_code == 200
    assert changed.json()["schedule"] is None and changed.json()["interval_seconds"] == 3600
    paused = await client.patch("/api/scheduler/jobs/daily", json={"enabled": False})
    assert paused.json()["next_run_at"] is None

    listed = (await client.get("/api/scheduler/jobs")).json()["data"]
    assert [j["name"] for j in listed] == ["daily"]
    overview = (await client.get("/api/scheduler/overview")).json()
    assert overview["jobs"][0]["name"] == "daily" and overview["scheduler"] is True
    assert (await client.get("/api/sldr/jobs/daily")).json()["id"] == job["id"]

    assert (await client.delete("/api/scheduler/jobs/daily")).status_code == 204
    gone = await client.get("/api/scheduler/jobs/daily")
    assert gone.status_code == 404 and code(gone) == "JOB_NOT_FOUND"


async def test_bad_schedules_are_refused_naming_the_field(client: Client) -> None:
    cases = [
        ({"name": "a", "schedule": "61 * * * *", "prompt": "x"}, "schedule"),
        ({"name": "a", "schedule": "every day", "prompt": "x"}, "schedule"),
        ({"name": "a", "prompt": "x"}, "schedule"),
        ({"name": "a", "schedule": "* * * * *", "interval_seconds": 5, "prompt": "x"}, "schedule"),
        ({"name": "a", "interval_seconds": 5, "timezone": "Mars/Base", "prompt": "x"}, "timezone"),
        ({"name": "a b", "interval_seconds": 5, "prompt": "x"}, "name"),
        ({"name": "a", "interval_seconds": 0, "prompt": "x"}, "interval_seconds"),
        ({"name": "a", "interval_seconds": 5, "prompt": " "}, "prompt"),
        ({"name": "a", "interval_seconds": 5, "prompt": "x", "missed": "later"}, "missed"),
    ]
    for body, field in cases:
        response = await client.post("/api/scheduler/jobs", json=body)
        assert response.status_code == 422, body
        assert code(response) == "VALIDATION_ERROR"
        assert field in [f["field"] for f in response.json()["error"]["details"]["fields"]], body
    unknown = await client.post(
        "/api/scheduler/jobs",
        json={"name": "a", "interval_seconds": 5, "prompt": "x", "session_id": "ses_nope"},
    )
    assert unknown.status_code == 404 and code(unknown) == "SESSION_NOT_FOUND"
    assert (await client.get("/api/scheduler/jobs")).json()["data"] == []


async def test_run_now_answers_the_prompt_in_a_new_session(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "Here is the news."})
    await client.post(
        "/api/scheduler/jobs", json={"name": "news", "schedule": "0 9 * * 1", "prompt": "News?"}
    )
    started = await client.post("/api/scheduler/jobs/news/run")
    assert started.status_code == 202, started.text
    run = started.json()
    runs = await until_runs(client, "news", lambda r: r and r[0]["status"] != "running")
    assert runs[0]["id"] == run["id"] and runs[0]["status"] == "completed"
    assert runs[0]["turn_id"] is not None
    messages = (await client.get(f"/api/sessions/{run['session_id']}/messages")).json()["data"]
    assert [m["content"] for m in messages] == ["News?", "Here is the news."]
    job = (await client.get("/api/scheduler/jobs/news")).json()
    assert job["last_status"] == "completed" and job["last_run_at"] is not None


async def test_an_interval_job_fires_on_its_own_until_disabled(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.configure(tokens=3)
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    await client.post(
        "/api/scheduler/jobs",
        json={"name": "tick", "interval_seconds": 1, "prompt": "Tick", "session_id": sid},
    )
    runs = await until_runs(client, "tick", lambda r: len(r) >= 2)
    assert all(r["session_id"] == sid for r in runs)
    await client.patch("/api/scheduler/jobs/tick", json={"enabled": False})
    settled = len(await runs_of(client, "tick"))
    await asyncio.sleep(2.5)
    assert len(await runs_of(client, "tick")) == settled


async def test_missed_runs_follow_the_jobs_policy(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    for name, missed in (("skipper", "skip"), ("catcher", "run_once")):
        made = await client.post(
            "/api/scheduler/jobs",
            json={"name": name, "interval_seconds": 3600, "prompt": "Hi", "missed": missed},
        )
        assert made.status_code == 201
    # As if the server had been down for a day.
    database = app.state.services.database
    async with database.write() as db:
        await db.execute(update(ScheduledJob).values(next_run_at=utcnow() - timedelta(days=1)))
    skipped = await until_runs(client, "skipper", lambda r: len(r) == 1)
    caught = await until_runs(client, "catcher", lambda r: r and r[0]["status"] == "completed")
    await asyncio.sleep(1.5)  # a few more passes: nothing more fires
    assert skipped[0]["status"] == "skipped" and skipped[0]["turn_id"] is None
    assert len(await runs_of(client, "catcher")) == 1 and len(caught) == 1
    for name in ("skipper", "catcher"):
        job = (await client.get(f"/api/scheduler/jobs/{name}")).json()
        assert job["next_run_at"] > utcnow().isoformat()[:19]
    assert fake_llm.stats().requests == 1


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_servers_on_one_database_fire_each_due_time_once(
    tmp_path: Path, database_url: str, fake_llm: FakeLLM
) -> None:
    fake_llm.configure(tokens=2)
    env = fake_model_env(
        fake_llm, ROOST_DATABASE_URL=database_url, ROOST_SCHEDULER_POLL_SECONDS="0.2"
    )
    with (
        roost_process(tmp_path / "a", env) as (_a, first),
        roost_process(tmp_path / "b", env) as (_b, second),
    ):
        async with (
            httpx.AsyncClient(base_url=first, timeout=10) as a,
            httpx.AsyncClient(base_url=second, timeout=10) as b,
        ):
            for server in (a, b):
                assert (await server.get("/api/scheduler/overview")).json()["scheduler"] is True
            made = await a.post(
                "/api/scheduler/jobs", json={"name": "pulse", "interval_seconds": 1, "prompt": "Hi"}
            )
            assert made.status_code == 201, made.text
            await asyncio.sleep(5)
            await a.patch("/api/scheduler/jobs/pulse", json={"enabled": False})
            runs = await until_runs(b, "pulse", lambda r: all(x["status"] != "running" for x in r))
    due_times = [run["scheduled_for"] for run in runs]
    assert len(due_times) >= 3
    assert len(set(due_times)) == len(due_times)  # no due time fired twice
    assert all(run["status"] == "completed" for run in runs)
    assert fake_llm.stats().requests == len(runs)
