"""Fixtures of the API tests that more than one module uses."""

from collections.abc import AsyncIterator

import openai
import pytest

from tests.support.openai_sdk import api_key


@pytest.fixture
async def sdk(live_server: str) -> AsyncIterator[openai.AsyncOpenAI]:
    key = await api_key(live_server)
    async with openai.AsyncOpenAI(base_url=f"{live_server}/v1", api_key=key, max_retries=0) as c:
        yield c
