"""Pass rates with Wilson intervals, percentiles, per-configuration summaries and flips."""

import pytest

from roost.services.evals.stats import (
    Flip,
    ResultFacts,
    flipped,
    percentile,
    summarize,
    wilson_interval,
)


def test_wilson_interval_for_known_counts() -> None:
    assert wilson_interval(8, 10) == (0.4902, 0.9433)
    assert wilson_interval(0, 10) == (0.0, 0.2775)
    assert wilson_interval(10, 10) == (0.7225, 1.0)
    assert wilson_interval(50, 100) == (0.4038, 0.5962)


def test_wilson_interval_with_nothing_counted_is_everything() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_interval_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="between 0 and total"):
        wilson_interval(11, 10)
    with pytest.raises(ValueError, match="between 0 and total"):
        wilson_interval(-1, 10)


def test_percentile_interpolates_between_ranks() -> None:
    values = [40.0, 10.0, 30.0, 20.0]  # sorted: 10, 20, 30, 40
    assert percentile(values, 50) == 25.0
    assert percentile(values, 0) == 10.0
    assert percentile(values, 100) == 40.0
    assert percentile(values, 95) == pytest.approx(38.5)  # rank 2.85: 30 + 0.85 * 10
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_percentile_refuses_p_outside_0_to_100() -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


def fact(
    passed: bool = True,
    errored: bool = False,
    latency_ms: int | None = 100,
    cost_usd: float | None = None,
) -> ResultFacts:
    return ResultFacts(passed, errored, latency_ms, 10, 5, cost_usd)


def test_summarize_counts_passes_failures_and_errors() -> None:
    results = [
        fact(latency_ms=100, cost_usd=0.01),
        fact(latency_ms=200, cost_usd=0.02),
        fact(latency_ms=300),
        fact(passed=False, latency_ms=400, cost_usd=0.005),
        fact(passed=False, errored=True, latency_ms=9000),
    ]
    summary = summarize("gpt-4o", results, repeats=1)
    assert (summary.cases, summary.passed, summary.failed, summary.errors) == (5, 3, 1, 1)
    assert summary.pass_rate == 0.6
    assert summary.pass_rate_interval is None
    # The errored run's latency is left out: 100, 200, 300, 400.
    assert summary.latency_ms_p50 == 250.0
    assert summary.latency_ms_p95 == 385.0
    assert (summary.prompt_tokens, summary.completion_tokens, summary.total_tokens) == (50, 25, 75)
    assert summary.cost_usd == pytest.approx(0.035)


def test_summarize_gives_an_interval_only_with_repeats() -> None:
    results = [fact()] * 8 + [fact(passed=False)] * 2
    summary = summarize("a", results, repeats=2)
    assert summary.pass_rate == 0.8
    assert summary.pass_rate_interval == (0.4902, 0.9433)
    assert summary.as_dict()["pass_rate_interval"] == [0.4902, 0.9433]


def test_summarize_without_costs_or_results() -> None:
    summary = summarize("a", [fact(latency_ms=None)], repeats=1)
    assert summary.cost_usd is None
    assert summary.latency_ms_p50 is None and summary.latency_ms_p95 is None
    empty = summarize("b", [], repeats=3)
    assert empty.as_dict() == {
        "configuration": "b",
        "cases": 0,
        "passed": 0,
        "failed": 0,
        "errors": 0,
        "pass_rate": 0.0,
        "pass_rate_interval": [0.0, 1.0],
        "latency_ms_p50": None,
        "latency_ms_p95": None,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
        "cost_usd": None,
    }


def test_summarize_rounds_the_rate_and_latencies() -> None:
    results = [fact(latency_ms=101), fact(passed=False, latency_ms=102), fact(latency_ms=104)]
    summary = summarize("a", results, repeats=1)
    assert summary.pass_rate == 0.6667
    assert summary.latency_ms_p50 == 102.0
    assert summary.latency_ms_p95 == 103.8


def test_flipped_lists_changes_in_both_runs_sorted() -> None:
    before = {
        ("c2", "b"): True,
        ("c1", "b"): False,
        ("c1", "a"): True,
        ("c3", "a"): True,  # unchanged
        ("c4", "a"): True,  # gone after
    }
    after = {
        ("c2", "b"): False,
        ("c1", "b"): True,
        ("c1", "a"): False,
        ("c3", "a"): True,
        ("c5", "a"): False,  # new
    }
    assert flipped(before, after) == [
        Flip("c1", "a", True, False, "pass_to_fail"),
        Flip("c1", "b", False, True, "fail_to_pass"),
        Flip("c2", "b", True, False, "pass_to_fail"),
    ]
    assert flipped(before, before) == []
    assert flipped(before, after)[0].as_dict() == {
        "case_id": "c1",
        "configuration": "a",
        "before": True,
        "after": False,
        "direction": "pass_to_fail",
    }
