"""Test helpers for Roost and its clients: a fake upstream LLM over real HTTP."""

from roost.testing._fake_script import FakeConfig
from roost.testing._fake_state import FakeStats, RecordedRequest
from roost.testing.fake_llm import FakeLLM, create_app

__all__ = ["FakeConfig", "FakeLLM", "FakeStats", "RecordedRequest", "create_app"]
