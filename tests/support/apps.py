"""A Roost app started for one test, and a client that talks to it in-process."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from roost.app import create_app
from roost.config import Settings


@asynccontextmanager
async def running(
    settings: Settings, **changes: Any
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """The app for ``settings`` with ``changes``, through its start-up and shutdown."""
    app = create_app(settings.model_copy(update=changes))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roost.test") as client:
            yield app, client


# For tests of what no store decides (input checks, the document, counters, files, the
# browser): SQLite alone, so the suite's time goes to what differs between databases.
ONE_DATABASE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
