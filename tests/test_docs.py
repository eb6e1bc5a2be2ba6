"""Docs that the code keeps honest: every route and every setting is written down."""

import re
from pathlib import Path
from typing import Any

from roost.app import create_app
from roost.config import Settings
from roost.errors import codes

ROOT = Path(__file__).parent.parent


def test_every_route_in_the_openapi_document_is_in_docs_api_md(tmp_path: Path) -> None:
    documented = set(
        re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`", (ROOT / "docs/api.md").read_text())
    )
    spec: dict[str, Any] = create_app(Settings(home=tmp_path)).openapi()
    routes = {(m.upper(), path) for path, ops in spec["paths"].items() for m in ops}
    missing = sorted(routes - documented)
    assert not missing, f"routes missing from docs/api.md: {missing}"


def documented_error_codes() -> dict[str, str]:
    """The code and status of each row of the Errors table in docs/api.md."""
    text = (ROOT / "docs/api.md").read_text()
    section = text.split("### Errors", 1)[1].split("\n#", 1)[0]
    return dict(re.findall(r"^\| `([A-Z_]+)` \| ([^|]+?) \|", section, re.MULTILINE))


def test_every_error_code_is_in_the_errors_table_of_docs_api_md() -> None:
    documented = documented_error_codes()
    raised = codes()
    assert sorted(raised.keys() - documented.keys()) == [], "codes missing from docs/api.md"
    assert sorted(documented.keys() - raised.keys()) == [], "codes nothing raises"
    wrong = {
        code: (status, raised[code].status)
        for code, status in documented.items()
        if status.isdigit() and int(status) != raised[code].status
    }
    assert wrong == {}, "documented status differs from the class's"


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


def named_in_architecture() -> set[str]:
    """The modules and packages docs/architecture.md names: `api/`, `store/owned.py`, …"""
    text = (ROOT / "docs" / "architecture.md").read_text()
    names = set(re.findall(r"`([a-z_]+(?:/[a-z_]+)*(?:\.py|/))`", text))
    names |= set(re.findall(r"\b([a-z_]+(?:/[a-z_]+)*\.py)\b", text))
    return names


def test_the_modules_docs_architecture_md_names_exist() -> None:
    names = named_in_architecture()
    assert len(names) > 20  # the page names the layout, not a handful of files
    source = ROOT / "src" / "roost"
    present = {path.relative_to(source).as_posix() for path in source.rglob("*")}
    present |= {f"{path}/" for path in list(present) if (source / path).is_dir()}
    missing = {
        name
        for name in names
        if not (ROOT / name).exists()
        and not any(p == name or p.endswith(f"/{name}") for p in present)
    }
    assert not missing, f"docs/architecture.md names modules that are not in src/roost: {missing}"
