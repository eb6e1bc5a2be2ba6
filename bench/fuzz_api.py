"""Fuzz the HTTP API with schemathesis, against the OpenAPI document Roost serves.

Starts the fake upstream LLM (``roost fake-llm``) and a real ``roost serve`` in
``required`` auth mode with a JWT secret of its own; registers an admin (the first user)
and an ordinary user, and gives the ordinary user a read-write API key. Then schemathesis
runs every operation of ``/api/openapi.json`` with that key, seeded and bounded (a fixed
number of examples per operation and per phase: examples, coverage, fuzzing), with the
checks

    not_a_server_error, response_schema_conformance, status_code_conformance,
    content_type_conformance, unsupported_method

and a summary is printed: requests sent, failures by check and operation. The terminal
report with a ``curl`` reproduction of each failure is kept in ``--out``. A well-formed
``Idempotency-Key`` is made unique per request (``fuzz_hooks.py``): the generator's few
short keys would otherwise be reused across operations and answered 400 before the route.

``--checks positive_data_acceptance,negative_data_rejection`` looks for the schema and the
server disagreeing instead: requests the document allows that are refused, and the reverse.

Not part of the test suite; needs the ``fuzz`` extra (``.venv/bin/pip install -e
'.[fuzz]'``). Run it by hand:

    .venv/bin/python bench/fuzz_api.py [--seed 5] [--max-examples 10] [--write]

``--write`` puts the result into the ``fuzz_api`` section of ``docs/benchmarks.md``.
Rate limits are raised out of the way (a fuzzer is one principal sending thousands of
requests), the rest is the default configuration. All traffic stays on the loopback
interface.
"""

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench_turns import clean_env, running_fake, spawn, stop_process, wait_ready
from harness import free_port, roost_command, write_section

CHECKS = (
    "not_a_server_error",
    "response_schema_conformance",
    "status_code_conformance",
    "content_type_conformance",
    "unsupported_method",
)
PHASES = "examples,coverage,fuzzing"
PASSWORD = "fuzzing is not guessing"
SHOWN_CRASHES = 10
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception)\b.*$", re.MULTILINE)
UNHANDLED = '"message":"unhandled error"'
RUN_TIMEOUT_S = 1800.0  # a run past this is broken, whatever the bounds say
HOOKS = Path(__file__).with_name("fuzz_hooks.py")  # a unique Idempotency-Key per request


@contextmanager
def running_server(folder: Path, fake_url: str) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [*roost_command(), "serve", "--auth", "required", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--home", str(folder / "home")]
    env = clean_env(
        ROOST_JWT_SECRET=secrets.token_urlsafe(32),
        ROOST_REGISTRATION="open",
        ROOST_RATE_LIMIT_PER_MINUTE="1000000",
        ROOST_RATE_LIMIT_ANONYMOUS_PER_MINUTE="1000000",
        ROOST_RATE_LIMIT_CONCURRENT="1000",
        OPENAI_BASE_URL=f"{fake_url}/v1",
        OPENAI_API_KEY="fuzz-upstream-key",
        ROOST_DEFAULT_MODEL="fake-small",
    )
    process = spawn(command, folder, env)
    try:
        wait_ready(process, f"{url}/api/health", folder)
        yield url
    finally:
        stop_process(process)


def user_key(url: str) -> str:
    """An ordinary (non-admin) user's read-write API key; the first user, the admin,
    is registered before so that the fuzzed one is not."""
    with httpx.Client(base_url=url, timeout=30) as client:
        for email in ("admin@fuzz.example", "user@fuzz.example"):
            body = {"email": email, "password": PASSWORD, "name": email.split("@")[0]}
            client.post("/api/auth/register", json=body).raise_for_status()
        login = client.post(
            "/api/auth/login", json={"email": "user@fuzz.example", "password": PASSWORD}
        )
        login.raise_for_status()
        assert not login.json()["user"]["is_admin"]
        token = login.json()["access_token"]
        created = client.post(
            "/api/auth/api-keys",
            json={"name": "fuzz", "scopes": ["read", "write"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        created.raise_for_status()
        return str(created.json()["key"])


def schemathesis(url: str, key: str, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    executable = Path(sys.executable).parent / "schemathesis"
    if not executable.exists():
        sys.exit("schemathesis is not installed: .venv/bin/pip install -e '.[fuzz]'")
    report = out.with_suffix(".json")
    command = [str(executable), "run", f"{url}/api/openapi.json"]
    command += ["--checks", args.checks, "--phases", PHASES]
    command += ["--seed", str(args.seed), "--max-examples", str(args.max_examples)]
    command += ["--workers", str(args.workers), "--request-timeout", "30"]
    command += ["--header", f"Authorization: Bearer {key}", "--continue-on-failure"]
    command += ["--suppress-health-check", "all", "--no-color", "--output-sanitize", "true"]
    command += ["--report", "json", "--report-json-path", str(report)]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)}
    with out.open("w") as log:
        # In the scratch folder: schemathesis keeps a cache (.schemathesis/) where it runs.
        subprocess.run(
            command,
            cwd=out.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    document: dict[str, Any] = json.loads(report.read_text())
    return document


def unhandled(log: Path) -> list[str]:
    """The server's unhandled errors, one line per kind: how many, the exception's last
    line and the first path it was seen at (the log has each traceback in full)."""
    if not log.exists():
        return []
    kinds: dict[str, list[str]] = {}
    for line in log.read_text(errors="replace").splitlines():
        if UNHANDLED not in line:
            continue
        record = json.loads(line)
        # The exception's own line (SQLAlchemy adds its statement and parameters after it).
        said = EXCEPTION_LINE.findall(str(record.get("exception", "")))
        kinds.setdefault(said[-1][:160] if said else "?", []).append(str(record.get("path")))
    return [f"{len(paths)} x {kind} (first at {paths[0]})" for kind, paths in kinds.items()]


def summary_lines(result: dict[str, Any], seconds: float, args: argparse.Namespace) -> list[str]:
    cases = result["test_cases"]
    operations = result["operations"]
    lines = [
        f"Seed {args.seed}, at most {args.max_examples} examples per operation and phase "
        f"({PHASES}), {args.workers} workers, schemathesis {result['schemathesis_version']}.",
        "",
        f"- operations tested: {operations['tested']} of {operations['total']}"
        f" ({operations['errored']} errored, {operations['skipped']} skipped)",
        f"- requests sent: {cases['generated']:,} in {seconds:.0f} s",
        f"- test cases with failures: {cases['with_failures']}"
        f" ({cases['unique_failures']} unique failures)",
    ]
    failures = result["failures"]
    if not failures:
        lines.append("- failures by check: none")
    for group in failures:
        shown = ", ".join(group["operations"][:6])
        more = len(group["operations"]) - 6
        lines.append(
            f"- `{group['code']}` ({group['title']}): {group['count']} in {shown}"
            + (f" and {more} more" if more > 0 else "")
        )
    for error in result["errors"]:
        lines.append(f"- error: {error['title']} ({error['count']})")
    return lines


def section(lines: list[str], args: argparse.Namespace) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    machine = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return "\n".join(
        [
            "## Fuzzing the API",
            "",
            f"Run {when} on {machine}: schemathesis against `/api/openapi.json` of a real "
            "`roost serve --auth required` (SQLite, the fake model), as an ordinary user "
            "with a read-write API key; checks "
            + ", ".join(f"`{c}`" for c in args.checks.split(","))
            + ". Each well-formed `Idempotency-Key` is made unique per request "
            "(`bench/fuzz_hooks.py`), so that POSTs reach their routes.",
            "",
            *lines,
            "",
            "Reproduce with:",
            "",
            "```sh",
            ".venv/bin/pip install -e '.[fuzz]'",
            f".venv/bin/python bench/fuzz_api.py --seed {args.seed} "
            f"--max-examples {args.max_examples} --workers {args.workers}",
            "```",
            "",
            "`--write` puts the result here; `--out` keeps the full report with a `curl` "
            "reproduction of each failure. `--checks positive_data_acceptance,"
            "negative_data_rejection` looks instead for requests the document allows that "
            "the server refuses, and the reverse.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--out", type=Path, default=Path(tempfile.gettempdir()) / "roost-fuzz" / "fuzz.log"
    )
    parser.add_argument("--checks", default=",".join(CHECKS), help="Comma-separated.")
    parser.add_argument("--write", action="store_true", help="Update docs/benchmarks.md.")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="roost-fuzz-"))
    try:
        with running_fake(work / "fake") as fake_url, running_server(work, fake_url) as url:
            started = time.monotonic()
            result = schemathesis(url, user_key(url), args, args.out)
            seconds = time.monotonic() - started
            crashes = unhandled(work / "process.log")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = summary_lines(result, seconds, args)
    lines += [f"- unhandled error logged: {kind}" for kind in crashes[:SHOWN_CRASHES]]
    if not crashes:
        lines.append("- unhandled errors in the server's log: none")
    print("\n".join(lines))
    print(f"\nFull report with reproductions: {args.out}")
    if args.write:
        write_section("fuzz_api", section(lines, args))


if __name__ == "__main__":
    main()
