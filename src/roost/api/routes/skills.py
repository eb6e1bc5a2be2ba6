"""Floyd's skills: instructions the agent follows, switched on or brought in by a word."""

from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field, StrictBool, StringConstraints

from roost.api.deps import Caller, Services
from roost.api.openapi import errors
from roost.api.schemas.common import ClientModel, Name, NoNul, ShortName, Timestamp
from roost.store.models import Skill

router = APIRouter(prefix="/skills", tags=["skills"])

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


def listed(skills: list[Skill]) -> SkillsOut:
    shown = [SkillOut.of(s) for s in skills]
    return SkillsOut(skills=shown, data=shown)


@router.get("", response_model=SkillsOut)
async def list_skills(caller: Caller, services: Services) -> SkillsOut:
    """The caller's skills, built-in ones first."""
    return listed(await services.skills.all(caller))


@router.get("/active", response_model=SkillsOut)
async def active_skills(caller: Caller, services: Services) -> SkillsOut:
    """The skills that join every turn's system prompt."""
    return listed(await services.skills.all(caller, active_only=True))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SkillOut)
async def create_skill(caller: Caller, services: Services, body: SkillIn) -> SkillOut:
    return SkillOut.of(await services.skills.create(caller, body.model_dump()))


@router.get("/{skill_id}", response_model=SkillOut)
async def get_skill(caller: Caller, services: Services, skill_id: str) -> SkillOut:
    return SkillOut.of(await services.skills.get(caller, skill_id))


@router.put("/{skill_id}", response_model=SkillOut)
async def update_skill(
    caller: Caller, services: Services, skill_id: str, body: SkillChange
) -> SkillOut:
    changes = body.model_dump(exclude_none=True)
    return SkillOut.of(await services.skills.update(caller, skill_id, changes))


@router.delete("/{skill_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(400))
async def delete_skill(caller: Caller, services: Services, skill_id: str) -> Response:
    await services.skills.delete(caller, skill_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{skill_id}/activate", response_model=SkillOut)
async def activate_skill(caller: Caller, services: Services, skill_id: str) -> SkillOut:
    return SkillOut.of(await services.skills.set_active(caller, skill_id, True))


@router.post("/{skill_id}/deactivate", response_model=SkillOut)
async def deactivate_skill(caller: Caller, services: Services, skill_id: str) -> SkillOut:
    return SkillOut.of(await services.skills.set_active(caller, skill_id, False))
