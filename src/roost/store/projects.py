"""Projects, always seen through their owner; and the locations every project lives under."""

from pathlib import PurePosixPath

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.clock import utcnow
from roost.errors import AlreadyExists, ProjectNotFound
from roost.store.db import flush_unique, insert_or_ignore
from roost.store.models import Project, ProjectLocation, Session, User
from roost.store.owned import OwnedRepo

MAX_LOCATIONS = 200


class LocationRepo:
    """Locations are shared by every user; only admins change them."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def all(self) -> list[ProjectLocation]:
        query = select(ProjectLocation).order_by(ProjectLocation.created_at, ProjectLocation.id)
        return list((await self.db.execute(query.limit(MAX_LOCATIONS))).scalars().all())

    async def get(self, location_id: str) -> ProjectLocation | None:
        """The location with this id; None for an unknown or malformed one."""
        if not ids.is_valid("loc", location_id):
            return None
        return await self.db.get(ProjectLocation, location_id)

    async def remove(self, location: ProjectLocation) -> None:
        await self.db.delete(location)
        await self.db.flush()

    async def by_path(self, path: str) -> ProjectLocation | None:
        query = select(ProjectLocation).where(ProjectLocation.path == path)
        return (await self.db.execute(query)).scalar_one_or_none()

    async def add_if_missing(self, location_id: str, name: str, path: str) -> bool:
        """Safe when replicas start together: the path is unique."""
        now = utcnow()
        values = {
            "id": location_id,
            "name": name,
            "path": path,
            "is_active": False,
            "created_at": now,
            "updated_at": now,
        }
        return await insert_or_ignore(self.db, ProjectLocation, values, conflict=["path"])

    async def set_active(self, location_id: str) -> None:
        await self.db.execute(
            update(ProjectLocation)
            .where(ProjectLocation.is_active.is_(True), ProjectLocation.id != location_id)
            .values(is_active=False)
        )
        await self.db.execute(
            update(ProjectLocation)
            .where(ProjectLocation.id == location_id)
            .values(is_active=True, updated_at=utcnow())
        )


class ProjectRepo(OwnedRepo[Project]):
    model = Project
    prefix = "proj"
    not_found = ProjectNotFound

    async def insert(self, project: Project) -> Project:
        """Add the owner's new project; another of theirs at its folder is a 409."""
        self.add(project)
        await flush_unique(self.db, path_taken(project.path))
        return project

    async def move(self, project: Project, path: str, location_id: str) -> None:
        """Point the project and its sessions at another folder; a 409 if it is taken."""
        project.path = path
        project.location_id = location_id
        await flush_unique(self.db, path_taken(path))
        await self.bind_sessions(project.id, path)

    async def by_path(self, path: str) -> Project | None:
        query = self.owned().where(Project.path == path)
        return (await self.db.execute(query)).scalar_one_or_none()

    async def active(self) -> Project | None:
        query = self.owned().where(Project.is_active.is_(True))
        return (await self.db.execute(query.order_by(Project.updated_at.desc()).limit(1))).scalar()

    async def lock_owner(self) -> None:
        """Serialise changes to which project is active: one active project per user."""
        await self.db.execute(select(User.id).where(User.id == self.owner_id).with_for_update())

    async def deactivate_all(self) -> None:
        await self.db.execute(
            update(Project)
            .where(Project.owner_id == self.owner_id, Project.is_active.is_(True))
            .values(is_active=False, updated_at=utcnow())
        )

    async def claimed_by_another(self, path: str) -> bool:
        """Whether another user's project is this folder, inside it, or around it."""
        ancestors = [str(p) for p in PurePosixPath(path).parents] + [path]
        query = select(Project.id).where(
            Project.owner_id != self.owner_id,
            or_(Project.path.in_(ancestors), Project.path.startswith(path + "/", autoescape=True)),
        )
        return (await self.db.execute(query.limit(1))).first() is not None

    async def bind_sessions(self, project_id: str, working_directory: str | None) -> None:
        """Point the sessions bound to a project at its folder, or unbind them (None)."""
        values: dict[str, object] = {"working_directory": working_directory}
        if working_directory is None:
            values["project_id"] = None
        await self.db.execute(
            update(Session)
            .where(Session.owner_id == self.owner_id, Session.project_id == project_id)
            .values(**values)
        )


def path_taken(path: str) -> AlreadyExists:
    return AlreadyExists(f"You already have a project at {path}", details={"path": path})
