"""The numbers of an evaluation run: pass rates with their uncertainty, latency
percentiles, token and cost sums per configuration, and the cases that flipped between
two runs."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal


def wilson_interval(passed: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a pass rate (95% for the default ``z``): unlike the
    normal approximation it stays inside [0, 1] and means something for small counts.
    With nothing counted, the rate could be anything: (0.0, 1.0)."""
    if total < 0 or not 0 <= passed <= total:
        raise ValueError(f"passed must be between 0 and total, got {passed} of {total}")
    if total == 0:
        return (0.0, 1.0)
    rate = passed / total
    spread = z * z / total
    centre = (rate + spread / 2) / (1 + spread)
    half = z * math.sqrt(rate * (1 - rate) / total + spread / (4 * total)) / (1 + spread)
    return (round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))


def percentile(values: Sequence[float], p: float) -> float | None:
    """The ``p``-th percentile (0 to 100), interpolating linearly between the closest
    ranks as numpy does by default; None when there are no values."""
    if not 0 <= p <= 100:
        raise ValueError(f"p must be between 0 and 100, got {p}")
    if not values:
        return None
    ordered = sorted(values)
    rank = p / 100 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class ResultFacts:
    """What a summary needs of one result (one case, one configuration, one repeat)."""

    passed: bool
    errored: bool
    latency_ms: int | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None


@dataclass(frozen=True)
class Summary:
    """One configuration's results. ``passed``, ``failed`` and ``errors`` part the cases:
    a run that itself failed counts as an error, not a failure, and against the pass rate."""

    configuration: str
    cases: int
    passed: int
    failed: int
    errors: int
    pass_rate: float
    pass_rate_interval: tuple[float, float] | None
    latency_ms_p50: float | None
    latency_ms_p95: float | None
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: float | None

    def as_dict(self) -> dict[str, Any]:
        interval = self.pass_rate_interval
        return {
            "configuration": self.configuration,
            "cases": self.cases,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "pass_rate": self.pass_rate,
            "pass_rate_interval": list(interval) if interval is not None else None,
            "latency_ms_p50": self.latency_ms_p50,
            "latency_ms_p95": self.latency_ms_p95,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "cost_usd": self.cost_usd,
        }


def summarize(configuration: str, results: Sequence[ResultFacts], repeats: int) -> Summary:
    """The summary of one configuration's results. The interval is given only when cases
    ran more than once; latencies are those of runs that completed; tokens and costs
    count every run, since a failed run was paid for too."""
    cases = len(results)
    errors = sum(r.errored for r in results)
    passed = sum(r.passed and not r.errored for r in results)
    latencies = [float(r.latency_ms) for r in results if r.latency_ms is not None and not r.errored]
    costs = [r.cost_usd for r in results if r.cost_usd is not None]
    prompt_tokens = sum(r.prompt_tokens for r in results)
    completion_tokens = sum(r.completion_tokens for r in results)
    return Summary(
        configuration=configuration,
        cases=cases,
        passed=passed,
        failed=cases - passed - errors,
        errors=errors,
        pass_rate=round(passed / cases, 4) if cases else 0.0,
        pass_rate_interval=wilson_interval(passed, cases) if repeats > 1 else None,
        latency_ms_p50=_tenth(percentile(latencies, 50)),
        latency_ms_p95=_tenth(percentile(latencies, 95)),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
        cost_usd=math.fsum(costs) if costs else None,
    )


def _tenth(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


Direction = Literal["pass_to_fail", "fail_to_pass"]


@dataclass(frozen=True)
class Flip:
    case_id: str
    configuration: str
    before: bool
    after: bool
    direction: Direction

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "configuration": self.configuration,
            "before": self.before,
            "after": self.after,
            "direction": self.direction,
        }


def flipped(
    before: Mapping[tuple[str, str], bool], after: Mapping[tuple[str, str], bool]
) -> list[Flip]:
    """The (case id, configuration) pairs that passed in one run and not in the other;
    pairs present in only one run are left out. Sorted by case id, then configuration."""
    flips: list[Flip] = []
    for key in sorted(before.keys() & after.keys()):
        was, now = before[key], after[key]
        if was != now:
            direction: Direction = "fail_to_pass" if now else "pass_to_fail"
            flips.append(Flip(key[0], key[1], was, now, direction))
    return flips
