"""Project templates: folders copied into a new project with ``{{variable}}`` filled in,
in file contents and file names. Substitution only: nothing in a template runs.

A template is a folder holding ``template.toml`` (``description`` and ``[[variables]]``
with ``name``, ``description``, ``default``, ``required``) and ``files/``. Roost ships
some in ``roost/project_templates``; an admin may add more in ``<home>/templates``
(same name: theirs wins). A ``.tmpl`` suffix is dropped from a copied file's name, so
that templates of code are not taken for code.
"""

import asyncio
import logging
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roost.config import Settings
from roost.engine.tools.sandbox import Sandbox
from roost.errors import TemplateNotFound, TemplateTooLarge, ValidationFailed
from roost.services.caller import Caller
from roost.services.locations import folder_name
from roost.services.projects import ProjectService
from roost.store.models import Project

log = logging.getLogger("roost.templates")

BUILTIN_ROOT = Path(__file__).resolve().parent.parent / "project_templates"
VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
TEMPLATE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
SUFFIX = ".tmpl"
MAX_FILES = 500
MAX_BYTES = 5 * 1024 * 1024
BUILTIN_VARIABLES = ("name", "slug", "module", "description")


@dataclass(frozen=True)
class TemplateVariable:
    name: str
    description: str
    default: str
    required: bool


@dataclass(frozen=True)
class ProjectTemplate:
    name: str
    description: str
    variables: tuple[TemplateVariable, ...]
    source: str  # builtin | home
    root: Path


class TemplateService:
    def __init__(self, settings: Settings, projects: ProjectService) -> None:
        self.settings = settings
        self.projects = projects

    async def all(self) -> list[ProjectTemplate]:
        return await asyncio.to_thread(self._load_all)

    async def create_project(
        self, caller: Caller, template_name: str, fields: dict[str, Any], given: dict[str, str]
    ) -> Project:
        """A new project (as :meth:`ProjectService.create`) in a new or empty folder,
        filled from the template."""
        template = next((t for t in await self.all() if t.name == template_name), None)
        if template is None:
            raise TemplateNotFound(template_name)
        values = variable_values(template, fields, given)
        files = await asyncio.to_thread(rendered_files, template, values)

        def populate(root: Path) -> None:
            sandbox = Sandbox(root)
            for relative, data in files:
                _write_new(sandbox, relative, data)

        return await self.projects.create(caller, fields, populate=populate)

    def _load_all(self) -> list[ProjectTemplate]:
        found: dict[str, ProjectTemplate] = {}
        for root, source in ((BUILTIN_ROOT, "builtin"), (self.settings.home / "templates", "home")):
            if not root.is_dir():
                continue
            for folder in sorted(root.iterdir()):
                template = _load(folder, source)
                if template is not None:
                    found[template.name] = template
        return sorted(found.values(), key=lambda t: t.name)


def variable_values(
    template: ProjectTemplate, fields: dict[str, Any], given: dict[str, str]
) -> dict[str, str]:
    """The built-in variables, then the template's (given, else their default)."""
    name = str(fields["name"])
    slug = folder_name(name)
    module = re.sub(r"\W", "_", slug, flags=re.ASCII)
    values = {
        "name": name,
        "slug": slug,
        "module": module if not module[:1].isdigit() else f"p_{module}",
        "description": str(fields.get("description") or ""),
    }
    missing = []
    for variable in template.variables:
        if variable.name in given:
            values[variable.name] = given[variable.name]
        elif variable.required:
            missing.append(variable.name)
        else:
            values[variable.name] = substitute(variable.default, values)
    if missing:
        raise ValidationFailed(
            "The template needs these variables",
            [{"field": f"variables.{n}", "in": "body", "reason": "required"} for n in missing],
        )
    return {**values, **{k: v for k, v in given.items() if k not in values}}


def substitute(text: str, values: dict[str, str]) -> str:
    """``{{name}}`` replaced by its value; unknown names left as they are."""
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def rendered_files(template: ProjectTemplate, values: dict[str, str]) -> list[tuple[str, bytes]]:
    """Every file of the template as (project-relative path, content), names checked."""
    files: list[tuple[str, bytes]] = []
    total = 0
    source = template.root / "files"
    for folder, dirnames, filenames in os.walk(source):
        dirnames[:] = sorted(d for d in dirnames if not (Path(folder) / d).is_symlink())
        for filename in sorted(filenames):
            path = Path(folder) / filename
            if path.is_symlink() or not path.is_file():
                continue  # a template copies its own files, never what a link points to
            data = path.read_bytes()
            total += len(data)
            if len(files) >= MAX_FILES or total > MAX_BYTES:
                raise TemplateTooLarge(template.name, MAX_FILES, MAX_BYTES)
            parts = [_part(p, values) for p in path.relative_to(source).parts]
            parts[-1] = parts[-1].removesuffix(SUFFIX) or parts[-1]
            files.append(("/".join(parts), _content(data, values)))
    return files


def _part(part: str, values: dict[str, str]) -> str:
    """One path component, filled in: it must stay one plain name."""
    rendered = substitute(part, values)
    if rendered in ("", ".", "..") or any(c in rendered for c in "/\\\x00"):
        used = [m.group(1) for m in VARIABLE.finditer(part)]
        raise ValidationFailed(
            f"The variables would make the file name {rendered!r}, which leaves its folder",
            [
                {"field": f"variables.{n}", "in": "body", "reason": "not usable in a file name"}
                for n in used
            ],
        )
    return rendered


def _content(data: bytes, values: dict[str, str]) -> bytes:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data  # binary files are copied as they are
    return substitute(text, values).encode()


def _write_new(sandbox: Sandbox, relative: str, data: bytes) -> None:
    sandbox.write(relative, [data], replace=False)  # beneath the new folder, no link followed


def _load(folder: Path, source: str) -> ProjectTemplate | None:
    if not TEMPLATE_NAME.fullmatch(folder.name) or not (folder / "files").is_dir():
        return None
    try:
        spec = tomllib.loads((folder / "template.toml").read_text(encoding="utf-8"))
        variables = tuple(
            TemplateVariable(
                name=str(v["name"]),
                description=str(v.get("description", "")),
                default=str(v.get("default", "")),
                required=bool(v.get("required", False)),
            )
            for v in spec.get("variables", [])
            if VARIABLE.fullmatch("{{" + str(v.get("name", "")) + "}}")
        )
        return ProjectTemplate(
            folder.name, str(spec.get("description", "")), variables, source, folder
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("template %s skipped: %s", folder, error)
        return None
