"""Test sets and evaluation runs over HTTP: sets and cases, import and export, a run of
a set against two configurations the fake LLM answers differently, its progress as an
event stream, the report, the flipped cases, cancel, retries on 429, and the judge."""

import asyncio
import csv
import io
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from roost.config import ModelPrice, Settings
from roost.store.models import EvalRun
from roost.testing import FakeLLM
from tests.support.admin import error_code
from tests.support.apps import running
from tests.support.sse import parse as parse_frames

Client = httpx.AsyncClient

SMALL = {"provider_id": "openai", "model_name": "fake-small"}
LARGE = {"provider_id": "openai", "model_name": "fake-large"}


async def make_set(client: Client, cases: list[dict[str, Any]], name: str = "support") -> str:
    response = await client.post(
        "/api/v1/testsets", json={"name": name, "description": "d", "cases": cases}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def until_ended(client: Client, set_id: str, eval_id: str) -> dict[str, Any]:
    for _ in range(1000):
        run = (await client.get(f"/api/testsets/{set_id}/runs/{eval_id}")).json()
        if run["status"] not in ("queued", "running"):
            return dict(run)
        await asyncio.sleep(0.02)
    raise AssertionError("the evaluation never ended")


async def test_a_test_set_is_made_read_changed_and_deleted(client: Client) -> None:
    cases: list[dict[str, Any]] = [
        {"id": "c1", "input": "Hi", "assertions": [{"type": "contains", "value": "Hi"}]},
        {"input": "Bye", "expected": "Bye"},
    ]
    set_id = await make_set(client, cases)
    listed = (await client.get("/api/testsets")).json()
    assert listed["testsets"] == listed["data"]
    assert listed["testsets"][0]["case_count"] == 2 and listed["testsets"][0]["name"] == "support"
    shown = (await client.get(f"/api/testsets/{set_id}")).json()
    assert shown["cases"][0]["id"] == "c1"
    assert shown["cases"][1]["id"].startswith("case_")
    assert shown["cases"][0]["assertions"] == [
        {"type": "contains", "value": "Hi", "case_sensitive": True}
    ]

    taken = await client.post("/api/testsets", json={"name": "support"})
    assert taken.status_code == 409 and error_code(taken) == "ALREADY_EXISTS"
    added = await client.post(f"/api/testsets/{set_id}/cases", json={"id": "c3", "input": "x"})
    assert added.status_code == 201 and added.json()["data"][0]["position"] == 3
    again = await client.post(
        f"/api/testsets/{set_id}/cases", json={"cases": [{"id": "c1", "input": "y"}]}
    )
    assert again.status_code == 409
    patched = await client.patch(
        f"/api/testsets/{set_id}/cases/c3",
        json={"expected": "x", "assertions": [{"type": "regex", "pattern": "^x$"}]},
    )
    assert patched.status_code == 200 and patched.json()["expected"] == "x"
    assert (await client.delete(f"/api/testsets/{set_id}/cases/c3")).status_code == 204
    missing = await client.delete(f"/api/testsets/{set_id}/cases/c3")
    assert missing.status_code == 404 and error_code(missing) == "CASE_NOT_FOUND"
    assert (await client.get(f"/api/testsets/{set_id}")).json()["case_count"] == 2

    replaced = await client.put(
        f"/api/testsets/{set_id}", json={"name": "renamed", "cases": [{"input": "only"}]}
    )
    assert replaced.json()["name"] == "renamed" and replaced.json()["case_count"] == 1
    assert (await client.delete(f"/api/testsets/{set_id}")).status_code == 204
    gone = await client.get(f"/api/testsets/{set_id}")
    assert gone.status_code == 404 and error_code(gone) == "TESTSET_NOT_FOUND"


@pytest.mark.parametrize(
    "assertion",
    [
        {"type": "regex", "pattern": "("},
        {"type": "json_schema", "schema": {"type": "nonsense"}},
        {"type": "llm_judge", "rubric": "r"},
        {"type": "telepathy"},
        {"type": "contains", "value": ""},
        {"type": "max_tokens", "value": -1},
    ],
)
async def test_a_bad_assertion_is_refused_and_nothing_is_made(
    client: Client, assertion: dict[str, Any]
) -> None:
    response = await client.post(
        "/api/testsets", json={"name": "s", "cases": [{"input": "x", "assertions": [assertion]}]}
    )
    assert response.status_code == 422, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    assert (await client.get("/api/testsets")).json()["data"] == []


async def test_a_set_exported_as_json_or_jsonl_imports_back(client: Client) -> None:
    cases = [
        {
            "id": "a",
            "input": "one",
            "expected": "1",
            "assertions": [{"type": "equals", "value": "1"}],
        },
        {
            "id": "b",
            "input": "two",
            "assertions": [{"type": "json_schema", "schema": {"type": "object"}}],
        },
    ]
    set_id = await make_set(client, cases, name="orig")
    as_json = (await client.get(f"/api/testsets/{set_id}/export")).json()
    assert as_json["name"] == "orig" and [c["id"] for c in as_json["cases"]] == ["a", "b"]
    assert as_json["cases"][1]["assertions"][0]["schema"] == {"type": "object"}

    copy = await client.post("/api/testsets/import", json={**as_json, "name": "copy"})
    assert copy.status_code == 201, copy.text
    assert [c["assertions"] for c in copy.json()["cases"]] == [
        c["assertions"] for c in as_json["cases"]
    ]

    lines = await client.get(f"/api/testsets/{set_id}/export", params={"format": "jsonl"})
    assert lines.headers["content-type"].startswith("application/jsonl")
    rows = [orjson.loads(line) for line in lines.content.splitlines()]
    assert rows[0] == {"name": "orig", "description": "d"} and len(rows) == 3
    imported = await client.post(
        "/api/testsets/import",
        params={"name": "from-lines"},
        content=lines.content,
        headers={"Content-Type": "application/jsonl"},
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["name"] == "from-lines" and imported.json()["case_count"] == 2

    broken = await client.post(
        "/api/testsets/import",
        params={"name": "bad"},
        content=b'{"input": "ok"}\nnot json\n',
        headers={"Content-Type": "application/jsonl"},
    )
    assert broken.status_code == 400 and error_code(broken) == "INVALID_REQUEST"
    invalid = await client.post(
        "/api/testsets/import",
        params={"name": "bad"},
        content=b'{"input": ""}\n',
        headers={"Content-Type": "application/jsonl"},
    )
    assert invalid.status_code == 422
    names = {t["name"] for t in (await client.get("/api/testsets")).json()["data"]}
    assert names == {"orig", "copy", "from-lines"}


def parse(text: str) -> list[Any]:
    """An evaluation's stream: ids are result seqs, every event names its run."""
    frames = parse_frames(text, turn_events=False)
    for frame in frames:
        assert frame.data["type"] == frame.event and frame.data["seq"] == frame.id
    return frames


def scripted(fake: FakeLLM, cases: list[dict[str, Any]]) -> None:
    """fake-small answers every case right; fake-large gets cases 3 and 7 wrong."""
    for number, case in enumerate(cases, 1):
        right = case["answer"]
        fake.add_replies(
            {"text": right, "for_model": "fake-small", "match": case["input"]},
            {
                "text": "I am not sure." if number in (3, 7) else right,
                "for_model": "fake-large",
                "match": case["input"],
            },
        )


TEN = [
    {"input": f"Question {n}: what is {n} + {n}?", "answer": f"The answer is {2 * n}."}
    for n in range(1, 11)
]


async def test_two_configurations_run_side_by_side_with_progress_and_flips(
    client: Client, fake_llm: FakeLLM
) -> None:
    await client.post("/api/agents", json={"name": "maths", "preamble": "You add numbers."})
    await client.post("/api/agents", json={"name": "maths-cheap", "preamble": "You add."})
    kinds: list[Callable[[dict[str, str]], dict[str, Any]]] = [
        lambda c: {"type": "contains", "value": c["answer"].split()[-1].rstrip(".")},
        lambda _c: {"type": "regex", "pattern": r"^The answer is \d+\.$"},
        lambda _c: {"type": "not_contains", "value": "not sure"},
        lambda c: {"type": "equals", "value": c["answer"]},
        lambda _c: {"type": "max_latency_ms", "value": 60_000},
        lambda _c: {"type": "max_tokens", "value": 10_000},
    ]
    cases = [
        {
            "id": f"q{n}",
            "input": case["input"],
            "expected": case["answer"],
            "assertions": [kinds[n % len(kinds)](case), kinds[(n + 1) % len(kinds)](case)],
        }
        for n, case in enumerate(TEN, 1)
    ]
    set_id = await make_set(client, cases)
    scripted(fake_llm, TEN)
    started = await client.post(
        f"/api/testsets/{set_id}/runs",
        json={
            "configurations": [
                {"name": "small", "agent_id": "maths", "model_ref": SMALL},
                {"name": "large", "agent_id": "maths-cheap", "model_ref": LARGE},
            ],
            "concurrency": 3,
        },
    )
    assert started.status_code == 202, started.text
    eval_id = started.json()["id"]
    assert started.json()["total"] == 20

    stream = await client.get(f"/api/testsets/{set_id}/runs/{eval_id}/events")
    events = parse(stream.text)
    results = [e for e in events if e.event == "result"]
    assert [e.id for e in results] == list(range(1, 21))
    assert events[-1].event == "eval_ended" and events[-1].id == 21
    assert events[-1].data["status"] == "completed"

    run = await until_ended(client, set_id, eval_id)
    summary = {s["configuration"]: s for s in run["summary"]}
    assert summary["small"]["passed"] == 10 and summary["small"]["pass_rate"] == 1.0
    assert summary["large"]["passed"] == 8 and summary["large"]["failed"] == 2
    assert summary["small"]["latency_ms_p50"] is not None
    assert summary["small"]["total_tokens"] > 0

    shown = (await client.get(f"/api/testsets/{set_id}/runs/{eval_id}/report")).json()
    assert [c["case_id"] for c in shown["cases"]] == [f"q{n}" for n in range(1, 11)]
    third = shown["cases"][2]
    assert third["passed"] == {"small": True, "large": False}
    assert third["results"]["large"][0]["output"] == "I am not sure."
    failing = [v for v in third["results"]["large"][0]["verdicts"] if not v["passed"]]
    assert failing and failing[0]["reason"]
    assert shown["disagreements"] == [
        {"case_id": "q3", "passed_in": ["small"], "failed_in": ["large"]},
        {"case_id": "q7", "passed_in": ["small"], "failed_in": ["large"]},
    ]
    flips = (
        await client.get(
            f"/api/testsets/{set_id}/runs/{eval_id}/compare",
            params={"configuration": "small", "other_configuration": "large"},
        )
    ).json()
    assert [f["case_id"] for f in flips["flipped"]] == ["q3", "q7"]
    assert flips["pass_to_fail"] == 2

    # Every case ran as a logged run with its agent's version and its place in the set.
    logged = (await client.get("/api/runs", params={"meta": f"eval_run_id={eval_id}"})).json()
    assert len(logged["data"]) == 20
    assert {r["agent"] for r in logged["data"]} == {"maths", "maths-cheap"}
    assert third["results"]["small"][0]["agent_version"] == 1

    exported = await client.get(
        f"/api/testsets/{set_id}/runs/{eval_id}/export", params={"format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 20 and {r["status"] for r in rows} == {"passed", "failed"}
    history = (await client.get(f"/api/testsets/{set_id}/runs")).json()
    assert [r["id"] for r in history["runs"]] == [eval_id]

    # A second run where fake-large does better: the flips between the two runs.
    for case in TEN:
        for model in ("fake-small", "fake-large"):
            fake_llm.add_replies(
                {"text": case["answer"], "for_model": model, "match": case["input"]}
            )
    second = await client.post(
        f"/api/testsets/{set_id}/runs",
        json={
            "configurations": [
                {"name": "small", "agent_id": "maths", "model_ref": SMALL},
                {"name": "large", "agent_id": "maths-cheap", "model_ref": LARGE},
            ]
        },
    )
    second_id = second.json()["id"]
    await until_ended(client, set_id, second_id)
    between = (
        await client.get(
            f"/api/testsets/{set_id}/runs/{eval_id}/compare", params={"with": second_id}
        )
    ).json()
    assert [(f["case_id"], f["configuration"], f["direction"]) for f in between["flipped"]] == [
        ("q3", "large", "fail_to_pass"),
        ("q7", "large", "fail_to_pass"),
    ]


async def test_the_event_stream_resumes_after_the_last_result_seen(
    client: Client, fake_llm: FakeLLM
) -> None:
    set_id = await make_set(client, [{"id": f"c{n}", "input": f"in {n}"} for n in range(3)])
    fake_llm.configure(token_delay_ms=5)
    started = await client.post(
        f"/api/testsets/{set_id}/runs",
        json={"configurations": [{"preamble": "p"}], "concurrency": 1},
    )
    eval_id = started.json()["id"]
    await until_ended(client, set_id, eval_id)
    rest = parse(
        (
            await client.get(
                f"/api/testsets/{set_id}/runs/{eval_id}/events", headers={"Last-Event-ID": "2"}
            )
        ).text
    )
    assert [(e.id, e.event) for e in rest] == [(3, "result"), (4, "eval_ended")]
    after_end = await client.get(f"/api/testsets/{set_id}/runs/{eval_id}/events?after=4")
    assert parse(after_end.text) == []


async def test_a_cancelled_evaluation_keeps_its_results_and_starts_no_more(
    client: Client, fake_llm: FakeLLM
) -> None:
    set_id = await make_set(client, [{"id": f"c{n}", "input": f"in {n}"} for n in range(6)])
    fake_llm.add_replies({"text": "quick"}, *[{"fault": "hang"}] * 6)
    started = await client.post(
        f"/api/testsets/{set_id}/runs",
        json={"configurations": [{"preamble": "p"}], "concurrency": 1},
    )
    eval_id = started.json()["id"]
    for _ in range(500):
        if (await client.get(f"/api/testsets/{set_id}/runs/{eval_id}")).json()["done"] >= 1:
            break
        await asyncio.sleep(0.02)
    cancelled = await client.post(f"/api/testsets/{set_id}/runs/{eval_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["done"] == 1
    assert cancelled.json()["summary"][0]["cases"] == 1


async def test_rate_limited_runs_are_tried_again(client: Client, fake_llm: FakeLLM) -> None:
    set_id = await make_set(client, [{"id": "only", "input": "hello", "expected": "fine"}])
    # More 429s than the provider's own retries take, then an answer.
    fake_llm.add_replies(*[{"fault": 429, "retry_after": 0}] * 4, {"text": "fine"})
    started = await client.post(
        f"/api/testsets/{set_id}/runs", json={"configurations": [{"preamble": "p"}]}
    )
    run = await until_ended(client, set_id, started.json()["id"])
    assert run["summary"][0]["passed"] == 1, run
    assert fake_llm.stats().requests >= 5


async def test_the_judge_grades_with_its_own_model_and_its_verdict_is_kept(
    client: Client, fake_llm: FakeLLM
) -> None:
    judge = {
        "type": "llm_judge",
        "rubric": "The answer must be polite.",
        "judge_model_ref": LARGE,
        "pass_threshold": 0.7,
    }
    set_id = await make_set(client, [{"id": "p", "input": "greet me", "assertions": [judge]}])
    fake_llm.add_replies(
        {"text": "Hello there, friend!", "for_model": "fake-small"},
        {"text": '{"score": 0.9, "reason": "Warm and polite."}', "for_model": "fake-large"},
    )
    started = await client.post(
        f"/api/testsets/{set_id}/runs",
        json={"configurations": [{"preamble": "Be kind.", "model_ref": SMALL}]},
    )
    eval_id = started.json()["id"]
    await until_ended(client, set_id, eval_id)
    results = (await client.get(f"/api/testsets/{set_id}/runs/{eval_id}/results")).json()["data"]
    verdict = results[0]["verdicts"][0]
    assert verdict == {
        "type": "llm_judge",
        "passed": True,
        "reason": "Warm and polite.",
        "score": 0.9,
    }
    judged = fake_llm.stats().last_request.body
    assert judged["model"] == "fake-large"
    assert "The answer must be polite." in str(judged["messages"])
    assert "Hello there, friend!" in str(judged["messages"])


async def test_evaluation_requests_are_checked(client: Client) -> None:
    set_id = await make_set(client, [{"input": "x"}])
    empty = await make_set(client, [], name="empty")
    for body, code in (
        ({"configurations": []}, "VALIDATION_ERROR"),
        ({"configurations": [{}]}, "INVALID_REQUEST"),
        ({"configurations": [{"preamble": "p", "agent_id": "assistant"}]}, "INVALID_REQUEST"),
        (
            {"configurations": [{"preamble": "p", "name": "a"}, {"preamble": "q", "name": "a"}]},
            "INVALID_REQUEST",
        ),
        ({"configurations": [{"agent_id": "ghost"}]}, "AGENT_NOT_FOUND"),
        (
            {
                "configurations": [
                    {"preamble": "p", "model_ref": {"provider_id": "openai", "model_name": "nope"}}
                ]
            },
            "MODEL_NOT_FOUND",
        ),
        ({"configurations": [{"preamble": "p"}], "concurrency": 1000}, "VALIDATION_ERROR"),
        ({"configurations": [{"preamble": "p"}], "repeats": 0}, "VALIDATION_ERROR"),
    ):
        response = await client.post(f"/api/testsets/{set_id}/runs", json=body)
        assert error_code(response) == code, (body, response.text)
    refused = await client.post(
        f"/api/testsets/{empty}/runs", json={"configurations": [{"preamble": "p"}]}
    )
    assert refused.status_code == 400
    assert (await client.get(f"/api/testsets/{set_id}/runs")).json()["data"] == []
    other = await client.get(f"/api/testsets/{empty}/runs/eval_01jd3x0000000000000000000a")
    assert other.status_code == 404 and error_code(other) == "EVAL_RUN_NOT_FOUND"


async def test_a_restart_ends_the_evaluations_it_was_running_interrupted(
    app: Any, client: Client
) -> None:
    set_id = await make_set(client, [{"id": "a", "input": "one"}, {"id": "b", "input": "two"}])
    started = await client.post(
        f"/api/testsets/{set_id}/runs", json={"configurations": [{"preamble": "p"}]}
    )
    eval_id = started.json()["id"]
    await until_ended(client, set_id, eval_id)
    services = app.state.services
    async with services.database.write() as db:  # as a process that stopped mid-way left it
        run = await db.get(EvalRun, eval_id)
        run.status, run.finished_at, run.summary = "running", None, None
    assert await services.evals.recover() == 1
    shown = (await client.get(f"/api/testsets/{set_id}/runs/{eval_id}")).json()
    assert shown["status"] == "interrupted" and shown["error"]["code"] == "INTERRUPTED"
    assert shown["summary"][0]["cases"] == 2  # the results it had stay, summed up


async def test_repeats_give_an_interval_prices_give_a_cost_and_tool_calls_are_checked(
    settings: Settings, fake_llm: FakeLLM
) -> None:
    prices = {"openai/fake-small": ModelPrice(input_per_million=1, output_per_million=2)}
    plan = {"steps": [{"description": "Look", "status": "completed"}]}
    async with running(settings, model_prices=prices) as (_app, client):
        await client.post(
            "/api/agents", json={"name": "planner", "preamble": "Plan.", "tools": ["update_plan"]}
        )
        called = {"type": "tool_called", "name": "update_plan", "args": {"steps": plan["steps"]}}
        set_id = await make_set(client, [{"id": "p", "input": "plan it", "assertions": [called]}])
        for _ in range(3):
            fake_llm.add_replies(
                {"tool_calls": [{"name": "update_plan", "arguments": plan}]},
                {"text": "done", "usage": {"input_tokens": 1000, "output_tokens": 500}},
            )
        started = await client.post(
            f"/api/testsets/{set_id}/runs",
            json={
                "configurations": [{"agent_id": "planner", "model_ref": SMALL}],
                "repeats": 3,
                "concurrency": 1,
            },
        )
        run = await until_ended(client, set_id, started.json()["id"])
    summary = run["summary"][0]
    assert summary["configuration"] == "planner@openai/fake-small"
    assert summary["cases"] == 3 and summary["passed"] == 3
    assert summary["pass_rate_interval"] == [0.4385, 1.0]  # Wilson, 3 of 3
    # Each repeat: the tool call's turn (counted by the fake) and the answer's 1000 + 500.
    assert summary["cost_usd"] is not None and summary["cost_usd"] >= 3 * (0.001 + 0.001)
