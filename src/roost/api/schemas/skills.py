"""Floyd's skills: what a user sends and what is shown."""

from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StringConstraints

from roost.api.schemas.common import ClientModel, Name, NoNul, ShortName, Timestamp
from roost.store.models import Skill

Instructions = Annotated[str, StringConstraints(strict=True, max_length=20_000), NoNul]
Trigger = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=100, strip_whitespace=True), NoNul
]
Icon = Annotated[str, StringConstraints(strict=True, max_length=32), NoNul]


class SkillIn(ClientModel):
    name: Name = Field(min_length=1)
    description: Instructions = ""
    instructions: Instructions = ""
    triggers: list[Trigger] = Field(default_factory=list, max_length=50)
    enabled: StrictBool = True
    category: ShortName = "custom"
    icon: Icon = ""


class SkillChange(ClientModel):
    """PUT: the fields sent replace the stored ones."""

    name: Name | None = Field(None, min_length=1)
    description: Instructions | None = None
    instructions: Instructions | None = None
    triggers: list[Trigger] | None = Field(None, max_length=50)
    enabled: StrictBool | None = None
    category: ShortName | None = None
    icon: Icon | None = None


class SkillOut(BaseModel):
    id: str
    name: str
    description: str
    instructions: str
    triggers: list[str]
    enabled: bool
    category: str
    icon: str
    is_active: bool
    builtin: bool
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, skill: Skill) -> "SkillOut":
        return cls(
            id=skill.id,
            name=skill.name,
            description=skill.description,
            instructions=skill.instructions,
            triggers=list(skill.triggers or []),
            enabled=skill.enabled,
            category=skill.category,
            icon=skill.icon,
            is_active=skill.is_active,
            builtin=skill.builtin_key is not None,
            created_at=skill.created_at,
            updated_at=skill.updated_at,
        )


class SkillsOut(BaseModel):
    skills: list[SkillOut]
    data: list[SkillOut]
    has_more: bool = False
    next_cursor: str | None = None

    @classmethod
    def of(cls, skills: list[Skill]) -> "SkillsOut":
        shown = [SkillOut.of(s) for s in skills]
        return cls(skills=shown, data=shown)
