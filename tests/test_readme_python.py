"""The README's Python blocks, run against a real server."""

import asyncio
import re
from pathlib import Path

import pytest

from roost.testing import FakeLLM

ROOT = Path(__file__).resolve().parents[1]
README_URL = "http://127.0.0.1:8787"


def python_block(name: str) -> str:
    readme = (ROOT / "README.md").read_text()
    block = re.search(rf"<!-- python: {name} -->\n```python\n(.*?)```", readme, re.S)
    assert block is not None, name
    return block.group(1)


async def run_block(name: str, url: str, capsys: pytest.CaptureFixture[str]) -> str:
    code = python_block(name).replace(README_URL, url)
    await asyncio.to_thread(exec, compile(code, f"README.md ({name})", "exec"), {})
    return capsys.readouterr().out


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_client_block_streams_an_answer(
    live_server: str, fake_llm: FakeLLM, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_llm.add_replies({"text": "Hello from Roost."})
    assert await run_block("client", live_server, capsys) == "Hello from Roost.\n"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_openai_block_runs_with_the_official_sdk(
    live_server: str, fake_llm: FakeLLM, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_llm.add_replies(
        {"text": "Hi there."},
        {"text": "Nile, Amazon, Yangtze."},
        {"text": "The Nile."},
    )
    assert await run_block("openai", live_server, capsys) == "Hi there.\nThe Nile.\n"
    sent = fake_llm.stats().last_requests[-1].body["messages"]
    assert [m["content"] for m in sent if m["role"] != "system"] == [
        "Name three rivers.",
        "Nile, Amazon, Yangtze.",
        "Which is longest?",
    ]
