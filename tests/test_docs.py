"""Docs that the code keeps honest: every route and every setting is written down."""

import re
from pathlib import Path
from typing import Any

from roost.app import create_app
from roost.config import Settings

ROOT = Path(__file__).parent.parent


def test_every_route_in_the_openapi_document_is_in_docs_api_md(tmp_path: Path) -> None:
    documented = set(
        re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`", (ROOT / "docs/api.md").read_text())
    )
    spec: dict[str, Any] = create_app(Settings(home=tmp_path)).openapi()
    routes = {(m.upper(), path) for path, ops in spec["paths"].items() for m in ops}
    missing = sorted(routes - documented)
    assert not missing, f"routes missing from docs/api.md: {missing}"


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs/operations.md").read_text()
    missing = [
        f"ROOST_{name.upper()}"
        for name in Settings.model_fields
        if f"ROOST_{name.upper()}" not in text
    ]
    assert not missing, f"settings missing from docs/operations.md: {missing}"


def test_readme_keeps_exactly_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert re.findall(r"<!-- setup-command: (\w+) -->", readme) == ["serve", "test"]
