"""What an evaluation run's results read as: the summary per configuration, the
side-by-side report, the cases that flipped (between two runs, or between two
configurations of one run), and the CSV export. Pure functions over stored rows."""

import csv
import io
from collections.abc import Sequence
from typing import Any

from roost.services.evals.stats import ResultFacts, flipped, summarize
from roost.store.models import EvalResult, EvalRun

CSV_COLUMNS = (
    "case_id",
    "configuration",
    "repeat",
    "status",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "failed_assertions",
    "output",
    "run_id",
)


def summaries(run: EvalRun, results: Sequence[EvalResult]) -> list[dict[str, Any]]:
    """One summary per configuration, in the order the run names them."""
    out = []
    for configuration in run.configurations:
        name = configuration["name"]
        facts = [_facts(r) for r in results if r.configuration == name]
        out.append(summarize(name, facts, run.repeats).as_dict())
    return out


def result_view(result: EvalResult) -> dict[str, Any]:
    return {
        "seq": result.seq,
        "case_id": result.case_id,
        "configuration": result.configuration,
        "repeat": result.repeat,
        "status": result.status,
        "output": result.output,
        "verdicts": result.verdicts,
        "latency_ms": result.latency_ms,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "total_tokens": result.prompt_tokens + result.completion_tokens,
        "cost_usd": result.cost_usd,
        "run_id": result.run_id,
        "agent_version": result.agent_version,
        "error": result.error,
    }


def side_by_side(run: EvalRun, results: Sequence[EvalResult]) -> dict[str, Any]:
    """Every case with each configuration's results beside each other, and the cases
    the configurations disagree on."""
    names = [c["name"] for c in run.configurations]
    by_case: dict[str, dict[str, list[dict[str, Any]]]] = {
        case["id"]: {name: [] for name in names} for case in run.cases
    }
    for result in results:
        by_case.setdefault(result.case_id, {}).setdefault(result.configuration, []).append(
            result_view(result)
        )
    cases = []
    disagreements = []
    for case in run.cases:
        shown = {name: sorted(rows, key=_repeat) for name, rows in by_case[case["id"]].items()}
        verdicts = {name: _passed(rows) for name, rows in shown.items() if rows}
        cases.append(
            {
                "case_id": case["id"],
                "input": case["input"],
                "expected": case.get("expected"),
                "passed": verdicts,
                "results": shown,
            }
        )
        if len(set(verdicts.values())) > 1:
            disagreements.append(
                {
                    "case_id": case["id"],
                    "passed_in": [n for n, ok in verdicts.items() if ok],
                    "failed_in": [n for n, ok in verdicts.items() if not ok],
                }
            )
    return {
        "eval_run_id": run.id,
        "testset_id": run.testset_id,
        "status": run.status,
        "configurations": run.configurations,
        "summary": run.summary or summaries(run, results),
        "cases": cases,
        "disagreements": disagreements,
    }


def case_verdicts(
    results: Sequence[EvalResult], configuration: str | None = None
) -> dict[tuple[str, str], bool]:
    """Whether each (case, configuration) passed: every repeat of it passed."""
    rows: dict[tuple[str, str], list[EvalResult]] = {}
    for result in results:
        if configuration is None or result.configuration == configuration:
            rows.setdefault((result.case_id, result.configuration), []).append(result)
    return {key: all(r.status == "passed" for r in group) for key, group in rows.items()}


def compare(
    base: Sequence[EvalResult],
    other: Sequence[EvalResult],
    *,
    base_configuration: str | None = None,
    other_configuration: str | None = None,
) -> list[dict[str, Any]]:
    """The cases that passed in ``base`` and not in ``other``, or the reverse: by case
    and configuration, or, with two configurations named, by case between them."""
    if base_configuration is None or other_configuration is None:
        return [flip.as_dict() for flip in flipped(case_verdicts(base), case_verdicts(other))]
    label = f"{base_configuration} -> {other_configuration}"
    before = {(c, label): ok for (c, _), ok in case_verdicts(base, base_configuration).items()}
    after = {(c, label): ok for (c, _), ok in case_verdicts(other, other_configuration).items()}
    return [flip.as_dict() for flip in flipped(before, after)]


def as_csv(results: Sequence[EvalResult]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for result in sorted(results, key=lambda r: (r.case_id, r.configuration, r.repeat)):
        failed = "; ".join(
            f"{v.get('type')}: {v.get('reason')}" for v in result.verdicts if not v.get("passed")
        )
        writer.writerow(
            (
                result.case_id,
                result.configuration,
                result.repeat,
                result.status,
                "" if result.latency_ms is None else result.latency_ms,
                result.prompt_tokens,
                result.completion_tokens,
                "" if result.cost_usd is None else result.cost_usd,
                failed,
                _safe_cell(result.output),
                result.run_id or "",
            )
        )
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _facts(result: EvalResult) -> ResultFacts:
    return ResultFacts(
        passed=result.status == "passed",
        errored=result.status == "error",
        latency_ms=result.latency_ms,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
        cost_usd=result.cost_usd,
    )


def _passed(rows: list[dict[str, Any]]) -> bool:
    return all(row["status"] == "passed" for row in rows)


def _repeat(row: dict[str, Any]) -> int:
    return int(row["repeat"])
