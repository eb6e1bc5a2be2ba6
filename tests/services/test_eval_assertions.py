"""Each assertion kind passes and fails with a readable reason; bad assertions are
refused at parse time; the judge is asked plainly and read leniently."""

from typing import Any

import pytest
from pydantic import ValidationError

from roost.services.evals.assertions import (
    Assertion,
    JsonSchema,
    Judge,
    Observed,
    ToolCallSeen,
    Verdict,
    check,
    parse_assertions,
    read_judgement,
)


async def no_judge(*asked: str) -> str:
    raise AssertionError(f"the judge should not be asked: {asked}")


def seen(output: str = "", **facts: Any) -> Observed:
    base: dict[str, Any] = {"input": "q", "output": output, "latency_ms": 100, "total_tokens": 50}
    return Observed(**(base | facts))


async def verdict(raw: dict[str, Any], observed: Observed, judge: Judge = no_judge) -> Verdict:
    (only,) = await check(parse_assertions([raw]), observed, judge)
    return only


async def test_contains_passes_and_fails_with_reasons() -> None:
    ok = await verdict({"type": "contains", "value": "Paris"}, seen("It is Paris."))
    assert ok == Verdict("contains", True, 'output contains "Paris"')
    bad = await verdict({"type": "contains", "value": "Paris"}, seen("It is paris."))
    assert bad == Verdict("contains", False, 'output does not contain "Paris"')


async def test_contains_can_ignore_case() -> None:
    raw = {"type": "contains", "value": "PARIS", "case_sensitive": False}
    assert (await verdict(raw, seen("it is paris"))).passed
    assert not (await verdict(raw, seen("it is lyon"))).passed


async def test_not_contains_fails_when_the_value_appears() -> None:
    raw = {"type": "not_contains", "value": "sorry"}
    assert (await verdict(raw, seen("Here it is."))).passed
    bad = await verdict(raw, seen("I am sorry."))
    assert not bad.passed and bad.reason == 'output contains "sorry"'
    insensitive = {"type": "not_contains", "value": "sorry", "case_sensitive": False}
    assert not (await verdict(insensitive, seen("SORRY!"))).passed


async def test_equals_trims_unless_told_not_to() -> None:
    assert (await verdict({"type": "equals", "value": "42"}, seen("  42\n"))).passed
    assert not (await verdict({"type": "equals", "value": "42"}, seen("42."))).passed
    strict = {"type": "equals", "value": "42", "trim": False}
    bad = await verdict(strict, seen("42\n"))
    assert not bad.passed and bad.reason == 'output does not equal "42"'


async def test_regex_searches_the_output() -> None:
    raw = {"type": "regex", "pattern": r"\b\d{4}-\d{2}-\d{2}\b"}
    assert (await verdict(raw, seen("due on 2024-05-01, ok"))).passed
    bad = await verdict(raw, seen("due soon"))
    assert not bad.passed and "does not match" in bad.reason


def test_a_regex_that_does_not_compile_is_refused_at_parse_time() -> None:
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        parse_assertions([{"type": "regex", "pattern": "(unclosed"}])


def test_a_regex_longer_than_the_cap_is_refused() -> None:
    parse_assertions([{"type": "regex", "pattern": "a" * 1000}])
    with pytest.raises(ValidationError):
        parse_assertions([{"type": "regex", "pattern": "a" * 1001}])


def test_unknown_kinds_and_extra_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        parse_assertions([{"type": "sounds_nice"}])
    with pytest.raises(ValidationError):
        parse_assertions([{"type": "contains", "value": "x", "ignore_case": True}])
    with pytest.raises(ValidationError):
        parse_assertions([{"type": "contains", "value": ""}])
    with pytest.raises(ValidationError):
        parse_assertions([{"type": "max_tokens", "value": -1}])


SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["city"],
}


async def test_json_schema_validates_the_output() -> None:
    raw = {"type": "json_schema", "schema": SCHEMA}
    ok = await verdict(raw, seen('{"city": "Paris", "population": 2100000}'))
    assert ok.passed and ok.reason == "output matches the schema"
    bad = await verdict(raw, seen('{"city": "Paris", "population": "many"}'))
    assert not bad.passed
    assert bad.reason == (
        "output does not match the schema at $.population: 'many' is not of type 'integer'"
    )


async def test_json_schema_reads_json_from_a_fenced_block() -> None:
    raw = {"type": "json_schema", "schema": SCHEMA}
    output = 'Here you are:\n```json\n{"city": "Lyon"}\n```\nAnything else?'
    assert (await verdict(raw, seen(output))).passed


async def test_json_schema_fails_when_the_output_is_not_json() -> None:
    bad = await verdict({"type": "json_schema", "schema": SCHEMA}, seen("The city is Paris."))
    assert bad == Verdict("json_schema", False, "output is not JSON")


def test_an_invalid_json_schema_is_refused_at_parse_time() -> None:
    with pytest.raises(ValidationError, match="not a valid JSON Schema"):
        parse_assertions([{"type": "json_schema", "schema": {"type": "no-such-type"}}])


def test_json_schema_is_written_back_as_schema() -> None:
    (parsed,) = parse_assertions([{"type": "json_schema", "schema": SCHEMA}])
    assert isinstance(parsed, JsonSchema)
    assert parsed.model_dump() == {"type": "json_schema", "schema": SCHEMA}


async def test_latency_and_token_caps() -> None:
    fast = await verdict({"type": "max_latency_ms", "value": 1000}, seen(latency_ms=1000))
    assert fast.passed
    slow = await verdict({"type": "max_latency_ms", "value": 1000}, seen(latency_ms=1200))
    assert slow == Verdict("max_latency_ms", False, "latency 1200 ms > 1000 ms")
    few = await verdict({"type": "max_tokens", "value": 60}, seen(total_tokens=50))
    assert few.passed
    many = await verdict({"type": "max_tokens", "value": 40}, seen(total_tokens=50))
    assert many == Verdict("max_tokens", False, "50 tokens > 40 tokens")


async def test_tool_called_matches_a_subset_of_the_arguments() -> None:
    calls = (
        ToolCallSeen("read_file", {"path": "a.txt"}),
        ToolCallSeen("web_search", {"query": "weather paris", "limit": 5}),
    )
    observed = seen(tool_calls=calls)
    assert (await verdict({"type": "tool_called", "name": "web_search"}, observed)).passed
    subset = {"type": "tool_called", "name": "web_search", "args": {"query": "weather paris"}}
    assert (await verdict(subset, observed)).passed
    other = {"type": "tool_called", "name": "web_search", "args": {"query": "weather lyon"}}
    bad = await verdict(other, observed)
    assert not bad.passed and "never with" in bad.reason
    missing_key = {"type": "tool_called", "name": "read_file", "args": {"encoding": "utf-8"}}
    assert not (await verdict(missing_key, observed)).passed
    absent = await verdict({"type": "tool_called", "name": "shell"}, observed)
    assert absent == Verdict("tool_called", False, 'tool "shell" was not called')


JUDGED = {
    "type": "llm_judge",
    "rubric": "The answer names the capital of France.",
    "judge_model_ref": {"provider_id": "openai", "model_name": "gpt-judge"},
    "pass_threshold": 0.7,
}


class FakeJudge:
    """Answers with a fixed reply (or raises it) and keeps what it was asked."""

    def __init__(self, reply: str | Exception) -> None:
        self.reply = reply
        self.asked: list[tuple[str, str, str]] = []

    async def __call__(self, ref: str, system: str, user: str) -> str:
        self.asked.append((ref, system, user))
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


async def test_the_judge_gets_the_rubric_the_case_and_the_output() -> None:
    judge = FakeJudge('{"score": 0.9, "reason": "Names Paris."}')
    observed = seen("It is Paris.", input="Capital of France?", expected="Paris")
    result = await verdict(JUDGED, observed, judge)
    assert result == Verdict("llm_judge", True, "Names Paris.", 0.9)
    ((ref, system, user),) = judge.asked
    assert ref == "openai/gpt-judge"
    assert "ONLY" in system and '"score"' in system
    assert "<rubric>\nThe answer names the capital of France.\n</rubric>" in user
    assert "<question>\nCapital of France?\n</question>" in user
    assert "<expected_answer>\nParis\n</expected_answer>" in user
    assert "<answer>\nIt is Paris.\n</answer>" in user


async def test_the_judge_prompt_leaves_out_a_missing_expected_answer() -> None:
    judge = FakeJudge('{"score": 1, "reason": "ok"}')
    await verdict(JUDGED, seen("Paris"), judge)
    assert "expected_answer" not in judge.asked[0][2]


async def test_a_score_below_the_threshold_fails() -> None:
    judge = FakeJudge('Sure! {"score": 0.6, "reason": "Vague."} Hope that helps.')
    result = await verdict(JUDGED, seen("Somewhere in France"), judge)
    assert result == Verdict("llm_judge", False, "Vague.", 0.6)


async def test_a_score_out_of_range_is_clamped() -> None:
    result = await verdict(JUDGED, seen("Paris"), FakeJudge('{"score": 7, "reason": "Great"}'))
    assert result.passed and result.score == 1.0


async def test_a_leading_pass_or_fail_word_is_accepted() -> None:
    passed = await verdict(JUDGED, seen("Paris"), FakeJudge("PASS: names Paris"))
    assert passed == Verdict("llm_judge", True, "names Paris", 1.0)
    failed = await verdict(JUDGED, seen("Rome"), FakeJudge("fail"))
    assert failed == Verdict("llm_judge", False, "the judge said FAIL", 0.0)


async def test_an_unreadable_judgement_fails() -> None:
    garbage = "I think it is fine, probably. " * 20
    result = await verdict(JUDGED, seen("Paris"), FakeJudge(garbage))
    assert not result.passed and result.score is None
    assert result.reason == f"the judge's answer could not be read: {garbage[:200]}"


async def test_a_failing_judge_fails_the_verdict_without_raising() -> None:
    result = await verdict(JUDGED, seen("Paris"), FakeJudge(RuntimeError("upstream 503")))
    assert result == Verdict("llm_judge", False, "the judge failed: upstream 503")


def test_read_judgement_skips_objects_without_a_score() -> None:
    reply = 'Given {"note": 1}, my grade: {"score": "0.25", "reason": "Partly."}'
    assert read_judgement(reply) == (0.25, "Partly.")
    assert read_judgement('{"score": true}') is None
    assert read_judgement("PASSED with flying colours") is None


async def test_verdicts_come_one_per_assertion_in_order() -> None:
    assertions: list[Assertion] = parse_assertions(
        [
            {"type": "max_tokens", "value": 10},
            {"type": "contains", "value": "Paris"},
            JUDGED,
        ]
    )
    results = await check(assertions, seen("Paris"), FakeJudge("PASS"))
    assert [(v.type, v.passed) for v in results] == [
        ("max_tokens", False),
        ("contains", True),
        ("llm_judge", True),
    ]
    assert results[2].as_dict() == {
        "type": "llm_judge",
        "passed": True,
        "reason": "the judge said PASS",
        "score": 1.0,
    }


async def test_a_case_with_only_an_expected_answer_is_graded_against_it() -> None:
    assert await check([], seen(" Paris \n", expected="Paris"), no_judge) == [
        Verdict("expected", True, 'output equals "Paris"')
    ]
    (bad,) = await check([], seen("Lyon", expected="Paris"), no_judge)
    assert bad == Verdict("expected", False, 'output does not equal "Paris"')
    assert await check([], seen("anything"), no_judge) == []
