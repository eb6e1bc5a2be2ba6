"""Floyd's skills: instructions the agent follows, switched on or brought in by a word."""

from fastapi import APIRouter, Response, status

from roost.api.deps import Caller, Services
from roost.api.openapi import errors
from roost.api.schemas.skills import SkillChange, SkillIn, SkillOut, SkillsOut

router = APIRouter(prefix="/skills", tags=["skills"])


@router.get("", response_model=SkillsOut)
async def list_skills(caller: Caller, services: Services) -> SkillsOut:
    """The caller's skills, built-in ones first."""
    return SkillsOut.of(await services.skills.all(caller))


@router.get("/active", response_model=SkillsOut)
async def active_skills(caller: Caller, services: Services) -> SkillsOut:
    """The skills that join every turn's system prompt."""
    return SkillsOut.of(await services.skills.all(caller, active_only=True))


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
