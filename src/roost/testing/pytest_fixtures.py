"""pytest fixtures for the fake LLM; import them into a ``conftest.py``::

    from roost.testing.pytest_fixtures import fake_llm, fake_llm_server  # noqa: F401

One server per test session (starting one is cheap, but a shared one is cheaper still);
each test gets it reset.
"""

from collections.abc import Iterator

import pytest

from roost.testing.fake_llm import FakeLLM


@pytest.fixture(scope="session")
def fake_llm_server() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


@pytest.fixture
def fake_llm(fake_llm_server: FakeLLM) -> FakeLLM:
    """The session's fake LLM with no replies, counters or recorded requests."""
    fake_llm_server.reset()
    return fake_llm_server
