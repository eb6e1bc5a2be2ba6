"""Projects for tests: made through the API, in a location inside the test's folder."""

import os
from pathlib import Path
from typing import Any

import httpx

from roost.config import Settings


def located(settings: Settings, root: Path) -> Settings:
    """``settings`` with one project location, ``root`` (made at start-up)."""
    return settings.model_copy(update={"project_locations": [root]})


async def new_project(
    client: httpx.AsyncClient,
    name: str = "Demo",
    headers: dict[str, str] | None = None,
    **body: Any,
) -> dict[str, Any]:
    response = await client.post("/api/projects", json={"name": name, **body}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


# Plain file system helpers, so that async tests say what they check in one call.


def is_dir(path: str | Path) -> bool:
    return Path(path).is_dir()


def exists(path: str | Path) -> bool:
    return os.path.lexists(path)


def write(path: str | Path, text: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text)


def read(path: str | Path) -> str:
    return Path(path).read_text()
