"""The ``roost`` command, and the README's tour run against a live ``roost serve``."""

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from subprocess import CompletedProcess

import httpx
import pytest
from typer.testing import CliRunner

from roost import __version__
from roost.cli import app
from roost.testing import FakeLLM
from tests.support.live import fake_model_env, roost_process

ROOT = Path(__file__).parent.parent
runner = CliRunner()


def test_version_prints_the_package_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == __version__


def test_config_masks_passwords_and_honours_priority(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = tmp_path / "roost.toml"
    toml.write_text('port = 9100\nlog_level = "debug"\nmax_body_bytes = 4096\n')
    monkeypatch.setenv("ROOST_CONFIG", str(toml))
    monkeypatch.setenv("ROOST_PORT", "9200")
    result = runner.invoke(
        app, ["config", "--database-url", "postgresql://roost:hunter2@db.local/roost"]
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert "hunter2" not in result.stdout
    assert shown["database_url"] == "postgresql+asyncpg://roost:***@db.local/roost"
    assert shown["port"] == 9200  # environment beats the file
    assert shown["log_level"] == "debug"  # the file beats the default
    assert shown["max_body_bytes"] == 4096


def test_cors_origins_accept_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOST_CORS_ORIGINS", "https://a.example, https://b.example")
    shown = json.loads(runner.invoke(app, ["config"]).stdout)
    assert shown["cors_origins"] == ["https://a.example", "https://b.example"]


def test_migrate_brings_a_new_database_up_to_date(tmp_path: Path) -> None:
    result = runner.invoke(app, ["migrate", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "roost.db").exists()


def require_curl() -> None:
    """The README's examples need curl: skipped without it, except under CI."""
    if shutil.which("curl") is None:
        if os.environ.get("CI"):
            pytest.fail("curl is not installed, and CI must run the README's examples")
        pytest.skip("curl is not installed")


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    """A real ``roost serve`` process on a free port, with its own home."""
    with roost_process(tmp_path, {}) as (_process, url):
        yield url


def test_serve_answers_health_at_both_paths(live_server: str) -> None:
    for path in ("/api/health", "/health", "/api/v1/health"):
        assert httpx.get(live_server + path).json()["status"] == "ok"
    assert httpx.get(live_server + "/api/openapi.json").json()["openapi"].startswith("3.1")
    assert httpx.get(live_server + "/docs").status_code == 200


def run_readme_block(marker: str, url: str, *, prelude: str = "") -> CompletedProcess[str]:
    """The README's ``<!-- marker -->`` shell block, run with bash against ``url``."""
    require_curl()
    readme = (ROOT / "README.md").read_text()
    block = re.search(rf"<!-- {marker} -->\n```sh\n(.*?)```", readme, re.S)
    assert block is not None, marker
    script = block.group(1).replace("localhost:8787", url.removeprefix("http://"))
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", prelude + script],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_readme_tour_runs_against_a_live_server(live_server: str) -> None:
    # Every curl must succeed, except the one that shows an error on purpose.
    strict = (
        'curl() { if [[ "$*" == *ses_unknown* ]]; then command curl "$@"; '
        'else command curl --fail-with-body "$@"; fi; }\n'
    )
    result = run_readme_block("tour", live_server, prelude=strict)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"SESSION_NOT_FOUND"' in result.stdout
    assert result.stdout.rstrip().endswith("204")
    assert '"Paris trip"' in result.stdout


def test_readme_first_answer_streams_from_a_live_server(tmp_path: Path) -> None:
    with FakeLLM() as fake, roost_process(tmp_path, fake_model_env(fake)) as (_process, url):
        result = run_readme_block("first-answer", url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("event: done") == 2
    assert "event: title" in result.stdout
    assert '"reply"' in result.stdout


def test_readme_task_runs_to_its_diff(tmp_path: Path) -> None:
    steps = [{"id": "1", "description": "Write greet.py", "status": "pending"}]
    with FakeLLM() as fake:
        fake.add_replies(
            {"tool_calls": [{"name": "update_plan", "arguments": {"steps": steps}}]},
            {
                "tool_calls": [
                    {
                        "name": "write_file",
                        "arguments": {"path": "greet.py", "content": "print('hello')\n"},
                    },
                    {
                        "name": "update_plan",
                        "arguments": {"steps": [{**steps[0], "status": "completed"}]},
                    },
                ]
            },
            {
                "tool_calls": [
                    {"name": "finish_task", "arguments": {"success": True, "summary": "Wrote it"}}
                ]
            },
        )
        with roost_process(tmp_path, fake_model_env(fake)) as (_process, url):
            result = run_readme_block("task", url)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("completed {'steps': [{'id': '1'")
    assert "'status': 'completed'" in lines[0] and "'summary': 'Wrote it'" in lines[0]
    assert lines[1] == "['plan.json', 'diff.patch', 'log.txt']"
    assert "+++ b/greet.py" in result.stdout and "+print('hello')" in result.stdout


def test_readme_project_agent_writes_and_runs_a_script_once_approved(tmp_path: Path) -> None:
    script = "echo 'Hello from Roost'\n"
    with FakeLLM() as fake:
        fake.add_replies(
            {
                "tool_calls": [
                    {"name": "write_file", "arguments": {"path": "hello.sh", "content": script}}
                ]
            },
            {"tool_calls": [{"name": "run_command", "arguments": {"command": "sh hello.sh"}}]},
            {"text": "It greets."},
        )
        env = fake_model_env(fake, ROOST_RUN_COMMAND_ENABLED="true")
        with roost_process(tmp_path, env) as (_process, url):
            result = run_readme_block("project-agent", url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"resumed":true' in result.stdout
    assert "Hello from Roost" in result.stdout and "[exit code 0]" in result.stdout
    assert result.stdout.rstrip().endswith("}") and "event: done" in result.stdout
    assert (tmp_path / "projects" / "hello" / "hello.sh").read_text() == script


def test_the_evaluation_example_of_the_docs_runs_against_a_live_server(
    tmp_path: Path, database_url: str
) -> None:
    """docs/evaluations.md's Python example, as a reader runs it: a ``roost serve`` on
    the fake provider, which the example scripts itself; on SQLite and PostgreSQL."""
    page = (ROOT / "docs" / "evaluations.md").read_text()
    block = re.search(r"<!-- evaluation -->\n```python\n(.*?)```", page, re.S)
    assert block is not None
    with (
        FakeLLM() as fake,
        roost_process(tmp_path, fake_model_env(fake, ROOST_DATABASE_URL=database_url)) as (
            _process,
            url,
        ),
    ):
        env = {**os.environ, "ROOST_URL": url, "FAKE_URL": fake.root_url}
        result = subprocess.run(
            [sys.executable, "-c", block.group(1)],
            capture_output=True,
            text=True,
            timeout=90,
            env=env,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    progress = [line for line in lines if re.match(r"^\s*\d+/20 ", line)]
    assert len(progress) == 20 and progress[-1].lstrip().startswith("20/20")
    assert "ended: completed" in lines
    assert any(line.startswith("current: 10/10 passed") for line in lines)
    assert any(line.startswith("cheaper: 8/10 passed") for line in lines)
    assert [line for line in lines if line.startswith("flipped")] == [
        "flipped q3 (pass_to_fail): 'What is 3 + 3?' -> 'Not sure.'",
        "flipped q7 (pass_to_fail): 'What is 7 + 7?' -> 'Not sure.'",
    ]
