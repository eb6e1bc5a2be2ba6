"""Project templates (Oqto's scaffolds): listed, and used to make a new project."""

from fastapi import APIRouter, status

from roost.api.deps import Caller, Services
from roost.api.openapi import errors
from roost.api.schemas.projects import ProjectOut, TemplateOut, TemplatesOut, TemplateUse

router = APIRouter(prefix="/projects/templates", tags=["projects"])


@router.get("", response_model=TemplatesOut)
async def list_templates(caller: Caller, services: Services) -> TemplatesOut:
    """Roost's templates and those in ``<home>/templates``."""
    shown = [TemplateOut.of(t) for t in await services.templates.all()]
    return TemplatesOut(templates=shown, data=shown)


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ProjectOut, responses=errors(404)
)
async def create_from_template(caller: Caller, services: Services, body: TemplateUse) -> ProjectOut:
    """A new project in a new or empty folder, filled from the template."""
    fields = body.model_dump(exclude={"template", "variables"})
    project = await services.templates.create_project(caller, body.template, fields, body.variables)
    return ProjectOut.of(project)
