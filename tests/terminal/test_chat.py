"""``roost chat`` and ``roost login`` driven through a real pseudo-terminal, against a real
``roost serve`` process answering with the fake model."""

import json
import os
import re
import shutil
import stat
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pexpect  # type: ignore[import-untyped]
import pytest

from roost.testing import FakeLLM
from tests.conftest import PROVIDER_KEYS
from tests.support.accounts import PASSWORD
from tests.support.live import fake_model_env, roost_process

ROOST = str(Path(sys.executable).with_name("roost"))
PROMPT = r"\n(?:\x1b\[\?2004h)?> "  # readline may switch bracketed paste on first
NEW_SESSION = r"new session (ses_[0-9a-z]+)"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(text: str) -> str:
    return ANSI.sub("", text)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLM]:
    with FakeLLM(tokens=12) as made:
        yield made


@pytest.fixture(autouse=True)
def _fresh_replies(fake: FakeLLM) -> None:
    fake.reset()


def serve(home: Path, template: Path, fake: FakeLLM, **env: str) -> Any:
    """``roost serve`` on a copy of the migrated template database (its default place)."""
    shutil.copy(template, home / "roost.db")
    return roost_process(home, fake_model_env(fake, **env))


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, fake: FakeLLM
) -> Iterator[str]:
    """Local mode (no credential needed); update_plan calls wait for approval."""
    home = tmp_path_factory.mktemp("local")
    with serve(home, sqlite_template, fake, ROOST_TOOLS_REQUIRING_APPROVAL="update_plan") as (
        _process,
        url,
    ):
        yield url


@pytest.fixture(scope="module")
def locked_server(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, fake: FakeLLM
) -> Iterator[str]:
    """Required mode: every route but the public ones needs a credential."""
    home = tmp_path_factory.mktemp("required")
    limits = {"ROOST_RATE_LIMIT_PER_MINUTE": "100000", "ROOST_REGISTRATION": "open"}
    with serve(home, sqlite_template, fake, ROOST_AUTH="required", **limits) as (_process, url):
        yield url


@contextmanager
def terminal(home: Path, url: str, *args: str) -> Iterator[Any]:
    """``roost <args>`` in a pseudo-terminal of 40 rows and 120 columns, with its own Roost home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env = {k: v for k, v in env.items() if k not in PROVIDER_KEYS}
    env.update(ROOST_HOME=str(home), ROOST_URL=url, ROOST_CONFIG=str(home / "none.toml"))
    env["TERM"] = "xterm"
    child = pexpect.spawn(
        ROOST, list(args), env=env, encoding="utf-8", dimensions=(40, 120), timeout=20
    )
    try:
        yield child
    finally:
        child.close(force=True)


def quit_(child: Any) -> None:
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.wait()
    assert child.exitstatus == 0


def newest_turn(url: str, session_id: str, until: str | None = None) -> dict[str, Any]:
    """The session's newest turn; with ``until``, once it has that status (5 s at most)."""
    deadline = time.monotonic() + 5
    while True:
        turn: dict[str, Any] = httpx.get(
            f"{url}/api/sessions/{session_id}/turns", params={"limit": 1}
        ).json()["data"][0]
        if until is None or turn["status"] == until or time.monotonic() > deadline:
            return turn
        time.sleep(0.05)


def test_an_answer_streams_in_and_the_prompt_comes_back(
    server: str, fake: FakeLLM, tmp_path: Path
) -> None:
    fake.add_replies({"text": "Cedar lasts longest outdoors, then oak."})
    with terminal(tmp_path, server, "chat") as child:
        child.expect(PROMPT)
        child.sendline("Which wood for the shed?")
        child.expect(NEW_SESSION)
        session_id = child.match.group(1)
        child.expect("Cedar lasts longest outdoors, then oak.")
        child.expect(PROMPT)
        quit_(child)
    messages = httpx.get(f"{server}/api/sessions/{session_id}/messages").json()["data"]
    assert [m["content"] for m in messages] == [
        "Which wood for the shed?",
        "Cedar lasts longest outdoors, then oak.",
    ]
    assert "Which wood for the shed?" in (tmp_path / "chat_history").read_text()


def test_an_approval_and_a_question_are_answered_at_the_prompt(
    server: str, fake: FakeLLM, tmp_path: Path
) -> None:
    steps = [{"description": "Sand the boards", "status": "pending"}]
    fake.add_replies(
        {"tool_calls": [{"name": "update_plan", "arguments": {"steps": steps}}]},
        {"text": "The plan is kept."},
        {
            "tool_calls": [
                {
                    "id": "ask_1",
                    "name": "ask_user",
                    "arguments": {"question": "Which colour?", "options": ["red", "blue"]},
                }
            ]
        },
        {"text": "Blue it is."},
    )
    with terminal(tmp_path, server, "chat") as child:
        child.expect(PROMPT)
        child.sendline("Plan the shed")
        child.expect("⚙ update_plan\\(steps=")
        child.expect("Allow update_plan to run\\?")
        child.expect(r"\[y\]es / \[a\]lways in this chat / \[n\]o: ")
        child.sendline("y")
        child.expect("Sand the boards")  # the plan, shown once the call ran
        child.expect("update_plan ✓ \\d+ ms")
        child.expect("The plan is kept.")
        child.expect(PROMPT)

        child.sendline("Paint it")
        child.expect("Which colour\\?")
        child.expect("2. blue")
        child.expect("answer: ")
        child.sendline("2")
        child.expect("Blue it is.")
        child.expect(PROMPT)
        quit_(child)
    sent = [m for m in fake.stats().last_requests[-1].body["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in sent][-1] == "blue"  # option 2, as the tool's result
    assert any(m["content"].startswith("Plan updated") for m in sent)  # it ran, approved


def test_ctrl_c_cancels_the_turn_under_way_and_the_chat_goes_on(
    server: str, fake: FakeLLM, tmp_path: Path
) -> None:
    fake.add_replies({"tokens": 400, "token_delay_ms": 20})
    with terminal(tmp_path, server, "chat") as child:
        child.expect(PROMPT)
        child.sendline("Write at length")
        child.expect(NEW_SESSION)
        session_id = child.match.group(1)
        child.expect("lorem ipsum dolor")
        child.sendintr()
        child.expect("\\(cancelled\\)")
        child.expect(PROMPT)
        assert newest_turn(server, session_id, until="cancelled")["status"] == "cancelled"

        child.sendintr()  # at the empty prompt: a hint, not an exit
        child.expect("Ctrl-D or /quit to quit")
        child.expect(PROMPT)
        child.sendline("Still there?")
        child.expect("Echo: Still there\\?")
        child.expect(PROMPT)
        assert newest_turn(server, session_id)["status"] == "completed"
        child.sendeof()
        child.expect(pexpect.EOF)
        child.wait()
    assert child.exitstatus == 0


def test_sessions_are_listed_and_opened_by_number(server: str, tmp_path: Path) -> None:
    with terminal(tmp_path, server, "chat") as child:
        child.expect(PROMPT)
        child.sendline("About hedges")
        child.expect(NEW_SESSION)
        first = child.match.group(1)
        child.expect("Echo: About hedges")
        child.expect(PROMPT)
        child.sendline("/new")
        child.expect(PROMPT)
        child.sendline("About ponds")
        child.expect(NEW_SESSION)
        second = child.match.group(1)
        child.expect(PROMPT)

        child.sendline("/sessions")
        child.expect(PROMPT)
        listed = dict(re.findall(r"(\d+)\. .*?(ses_[0-9a-z]+)", plain(child.before)))
        numbers = {session: number for number, session in listed.items()}
        assert numbers[second] == "1"  # the newest first
        child.sendline(f"/open {numbers[first]}")
        child.expect(first)
        child.expect("> About hedges")  # its history
        child.expect("Echo: About hedges")
        child.expect(PROMPT)
        child.sendline("And yews")
        child.expect("Echo: And yews")
        child.expect(PROMPT)
        child.sendline("/open 99")
        child.expect("no session number 99")
        quit_(child)
    contents = [
        m["content"] for m in httpx.get(f"{server}/api/sessions/{first}/messages").json()["data"]
    ]
    assert contents[0] == "About hedges" and contents[2] == "And yews"


def test_a_session_with_a_running_turn_is_joined_from_its_first_event(
    server: str, fake: FakeLLM, tmp_path: Path
) -> None:
    words = " ".join(f"word{i}" for i in range(60))
    fake.add_replies({"text": words, "token_delay_ms": 50})
    session_id = httpx.post(f"{server}/api/sessions", json={}).json()["id"]
    started = httpx.post(
        f"{server}/api/sessions/{session_id}/messages",
        params={"background": "true"},
        json={"content": "Count for me"},
    )
    assert started.status_code == 202, started.text
    while newest_turn(server, session_id)["last_seq"] < 5:  # under way before anyone joins
        time.sleep(0.02)
    with terminal(tmp_path, server, "chat", "--session", session_id) as child:
        child.expect("> Count for me")
        child.expect("joining the turn that is running")
        child.expect("word0 word1")  # from its first event, though it began before
        child.expect("word59")
        child.expect(PROMPT)
        assert newest_turn(server, session_id)["status"] == "completed"
        quit_(child)


def test_login_keeps_tokens_that_chat_uses_and_refreshes(
    locked_server: str, tmp_path: Path
) -> None:
    url = locked_server
    registered = httpx.post(
        f"{url}/api/auth/register", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert registered.status_code == 201, registered.text
    with terminal(tmp_path, url, "login", "--email", "ada@example.com") as child:
        child.expect("Password: ")
        child.sendline(PASSWORD)
        child.expect(f"logged in to {url} as ada@example.com")
        child.expect(pexpect.EOF)
        child.wait()
    assert child.exitstatus == 0
    stored_file = tmp_path / "credentials.json"
    assert stat.S_IMODE(stored_file.stat().st_mode) == 0o600
    assert PASSWORD not in stored_file.read_text()
    stored = json.loads(stored_file.read_text())["logins"][url]
    assert stored["url"] == url and stored["refresh_token"]
    # An access token the server refuses: chat refreshes the login and goes on.
    stored_file.write_text(json.dumps({"logins": {url: {**stored, "access_token": "expired"}}}))

    with terminal(tmp_path, url, "chat") as child:
        child.expect(PROMPT)
        child.sendline("Hello from Ada")
        child.expect(NEW_SESSION)
        session_id = child.match.group(1)
        child.expect("Echo: Hello from Ada")
        child.expect(PROMPT)
        quit_(child)
    renewed = json.loads(stored_file.read_text())["logins"][url]
    assert renewed["refresh_token"] != stored["refresh_token"]
    as_ada = {"Authorization": f"Bearer {renewed['access_token']}"}
    mine = httpx.get(f"{url}/api/sessions", headers=as_ada).json()["data"]
    assert [s["id"] for s in mine] == [session_id]

    with terminal(tmp_path, url, "logout") as child:
        child.expect(f"logged out of {url}")
        child.expect(pexpect.EOF)
    assert json.loads(stored_file.read_text())["logins"] == {}
    assert httpx.get(f"{url}/api/sessions", headers=as_ada).status_code == 401  # ended there
    with terminal(tmp_path, url, "chat") as child:
        child.expect(PROMPT)
        child.sendline("Anyone?")
        child.expect("log in with: roost login")  # the server's 401, and what to do
        child.expect(PROMPT)
        quit_(child)
