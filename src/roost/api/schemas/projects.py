"""What clients send and receive about projects, their files and snippets, locations and
templates. Floyd's clients read ``activeId`` and epoch-millisecond ``created`` and
``updated``; those are answered beside the snake_case fields."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from roost.api.schemas.common import (
    Body,
    ClientModel,
    Name,
    NoNul,
    Path,
    ShortName,
    Timestamp,
    either,
)
from roost.engine.tools.policy import SandboxPolicy
from roost.services.project_files import FileInfo
from roost.services.project_templates import ProjectTemplate
from roost.store.models import Project, ProjectLocation

Description = Annotated[str, StringConstraints(strict=True, max_length=10_000), NoNul]
SnippetText = Annotated[str, StringConstraints(strict=True, max_length=64 * 1024), NoNul]
VariableName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
VariableValue = Annotated[str, StringConstraints(strict=True, max_length=1000), NoNul]


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class ProjectIn(ClientModel):
    name: Name = Field(min_length=1)
    description: Description = ""
    path: Path | None = Field(
        None,
        description="Absolute, inside a location; or relative to the active location. "
        "Default: a folder named after the project in the active location.",
    )


class ProjectChange(ClientModel):
    """PUT and PATCH: the fields sent are changed."""

    name: Name | None = Field(None, min_length=1)
    description: Description | None = None
    path: Path | None = Field(
        None, description="Point the project at another folder; nothing is moved on disk."
    )


class FileEntryOut(BaseModel):
    id: str
    type: Literal["file", "snippet"]
    path: str | None = None
    name: str | None = None
    content: str | None = None
    size: int
    added_at: str | None = None

    @classmethod
    def of(cls, entry: dict[str, Any]) -> "FileEntryOut":
        return cls(
            id=str(entry.get("id", "")),
            type="snippet" if entry.get("type") == "snippet" else "file",
            path=entry.get("path"),
            name=entry.get("name"),
            content=entry.get("content"),
            size=int(entry.get("size", 0)),
            added_at=entry.get("added_at"),
        )


class PolicyOut(BaseModel):
    read_only: bool
    allow_commands: bool
    allow_network: bool
    denied_paths: list[str]


class ProjectOut(BaseModel):
    id: str
    name: str
    description: str
    path: str
    location_id: str | None
    files: list[FileEntryOut]
    meta: dict[str, Any]
    sandbox: PolicyOut = Field(description="The restrictions set on this project.")
    is_active: bool
    created_at: Timestamp
    updated_at: Timestamp
    created: int = Field(description="Floyd's created_at, epoch milliseconds.")
    updated: int = Field(description="Floyd's updated_at, epoch milliseconds.")

    @classmethod
    def of(cls, project: Project) -> "ProjectOut":
        return cls(
            id=project.id,
            name=project.name,
            description=project.description,
            path=project.path,
            location_id=project.location_id,
            files=[FileEntryOut.of(e) for e in project.files or []],
            meta=project.meta or {},
            sandbox=PolicyOut(**SandboxPolicy.from_json(project.sandbox).as_json()),
            is_active=project.is_active,
            created_at=project.created_at,
            updated_at=project.updated_at,
            created=epoch_ms(project.created_at),
            updated=epoch_ms(project.updated_at),
        )


class ProjectsOut(BaseModel):
    projects: list[ProjectOut]
    data: list[ProjectOut]
    has_more: bool
    next_cursor: str | None
    active_id: str | None
    activeId: str | None = Field(description="Floyd's name for active_id.")


class DeactivatedOut(BaseModel):
    success: bool = True
    active_id: None = None


class FileEntryIn(ClientModel):
    """``{type: "file", path}`` or ``{type: "snippet", name, content}``."""

    type: Literal["file", "snippet"] | None = Field(
        None, description="Default: snippet when content is sent, else file."
    )
    path: Path | None = None
    name: Name | None = None
    content: SnippetText | None = None

    @model_validator(mode="after")
    def _complete(self) -> "FileEntryIn":
        if self.type is None:
            self.type = "snippet" if self.content is not None else "file"
        if self.type == "file" and not self.path:
            raise ValueError("a file entry needs a path")
        if self.type == "snippet" and (not self.name or self.content is None):
            raise ValueError("a snippet needs a name and content")
        return self


class FileEntryRemove(ClientModel):
    path: Path | None = None
    name: Name | None = None
    id: ShortName | None = None


class LocationIn(ClientModel):
    path: Path = Field(min_length=1, description="An absolute folder; made if missing.")
    name: Name | None = None
    active: StrictBool = Field(False, description="Also make it the active location.")
    force: StrictBool = Field(
        False, description="Add it even where it is a system folder or holds Roost's home."
    )


class LocationChoice(ClientModel):
    id: ShortName | None = either("id", "location_id")
    path: Path | None = None

    @model_validator(mode="after")
    def _one(self) -> "LocationChoice":
        if not self.id and not self.path:
            raise ValueError("give the location's id or path")
        return self


class LocationOut(BaseModel):
    id: str
    name: str
    path: str
    is_active: bool
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, location: ProjectLocation) -> "LocationOut":
        return cls(
            id=location.id,
            name=location.name,
            path=location.path,
            is_active=location.is_active,
            created_at=location.created_at,
            updated_at=location.updated_at,
        )


class LocationsOut(BaseModel):
    locations: list[LocationOut]
    data: list[LocationOut]
    has_more: bool = False
    next_cursor: str | None = None
    active_id: str | None

    @classmethod
    def of(cls, locations: list[ProjectLocation]) -> "LocationsOut":
        shown = [LocationOut.of(loc) for loc in locations]
        active = next((loc.id for loc in locations if loc.is_active), None)
        return cls(locations=shown, data=shown, active_id=active)


class TemplateVariableOut(BaseModel):
    name: str
    description: str
    default: str
    required: bool


class TemplateOut(BaseModel):
    name: str
    description: str
    variables: list[TemplateVariableOut]
    source: Literal["builtin", "home"]

    @classmethod
    def of(cls, template: ProjectTemplate) -> "TemplateOut":
        return cls(
            name=template.name,
            description=template.description,
            variables=[TemplateVariableOut(**vars(v)) for v in template.variables],
            source="home" if template.source == "home" else "builtin",
        )


class TemplatesOut(BaseModel):
    templates: list[TemplateOut]
    data: list[TemplateOut]
    has_more: bool = False
    next_cursor: str | None = None


class TemplateUse(ProjectIn):
    template: ShortName = Field(min_length=1)
    variables: dict[VariableName, VariableValue] = Field(
        default_factory=dict,
        max_length=50,
        # Names that fail the pattern are refused, not merely left unchecked.
        json_schema_extra={"additionalProperties": False},
    )


# The file browser: the files and folders inside a project.


class FileInfoOut(BaseModel):
    name: str
    path: str = Field(description="Relative to the project root.")
    type: str = Field(description="file, directory, symlink or other.")
    size: int
    modified: Timestamp

    @classmethod
    def of(cls, info: FileInfo) -> "FileInfoOut":
        return cls(
            name=info.name, path=info.path, type=info.type, size=info.size, modified=info.modified
        )


class TreeOut(BaseModel):
    project_id: str
    path: str
    entries: list[FileInfoOut]
    data: list[FileInfoOut]
    has_more: bool = Field(description="More entries than the 1,000 listed.")
    next_cursor: None = None


class FileTextOut(FileInfoOut):
    project_id: str
    content: str
    encoding: str = "utf-8"


class FileWrite(ClientModel):
    path: Path = Field(min_length=1)
    content: Body


class FolderIn(ClientModel):
    path: Path = Field(min_length=1)


class RenameIn(ClientModel):
    source: Path = either("from", "source", "old_path", required=True, min_length=1)
    target: Path = either("to", "target", "new_path", required=True, min_length=1)


class UploadedOut(BaseModel):
    project_id: str
    files: list[FileInfoOut]
