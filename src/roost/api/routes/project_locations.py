"""Project locations (Oqto): the folders project paths must live under. Everyone may
list them; only admins add, rename or choose the active one."""

from fastapi import APIRouter, Response, status

from roost.api.deps import Admin, Caller, Services
from roost.api.openapi import errors
from roost.api.schemas.projects import LocationChoice, LocationIn, LocationOut, LocationsOut

router = APIRouter(prefix="/projects/locations", tags=["projects"])


@router.get("", response_model=LocationsOut)
async def list_locations(caller: Caller, services: Services) -> LocationsOut:
    return LocationsOut.of(await services.locations.all())


@router.post(
    "",
    response_model=LocationOut,
    responses={
        201: {"model": LocationOut, "description": "Added"},
        **errors(
            codes={409: "`PATH_RESERVED`: `/`, a system folder or Roost's home, without `force`"}
        ),
    },
)
async def save_location(
    admin: Admin, services: Services, body: LocationIn, response: Response
) -> LocationOut:
    """Add a location (201; its folder is made if missing), or rename the one at that
    real path (200). ``/``, system folders and Roost's home are refused (409
    PATH_RESERVED) unless ``force`` is true."""
    location, created = await services.locations.save(
        body.path, body.name, body.active, force=body.force
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return LocationOut.of(location)


@router.delete("/{location_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_location(admin: Admin, services: Services, location_id: str) -> Response:
    """Stop treating a folder as a location (nothing on disk changes); projects in it
    become unavailable to tools. The settings' locations come back at the next start."""
    await services.locations.delete(location_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/active", response_model=LocationsOut, responses=errors(404))
async def activate_location(admin: Admin, services: Services, body: LocationChoice) -> LocationsOut:
    """Choose where new projects go when their path is relative or left out."""
    await services.locations.activate(body.id or body.path or "")
    return LocationsOut.of(await services.locations.all())
