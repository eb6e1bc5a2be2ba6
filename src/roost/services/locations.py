"""Project locations: the folders every project path must live under (the sandbox
boundary), seeded from the settings and kept by admins; and where a new project goes."""

import re
from dataclasses import dataclass
from pathlib import Path

from roost import ids
from roost.config import Settings
from roost.errors import (
    InvalidPath,
    LocationNotFound,
    NoActiveLocation,
    PathNotADirectory,
    PathOutsideLocations,
    PathReserved,
    PathUnavailable,
)
from roost.store.db import Database
from roost.store.models import ProjectLocation
from roost.store.projects import LocationRepo

MAX_FOLDER_NAME = 100
# The system's own folders: no place for projects, nor for anything inside them.
SYSTEM_TREES = [
    *("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64"),
    *("/boot", "/dev", "/proc", "/sys"),
]
# Folders that hold much more than projects, refused as locations themselves.
SYSTEM_FOLDERS = {
    *("/", "/var", "/root", "/home", "/run", "/srv", "/opt", "/mnt"),
    "/tmp",  # noqa: S108 - refused, not used
}


@dataclass(frozen=True)
class Placement:
    """Where a project's folder is: its real path and the location holding it."""

    path: Path
    location: ProjectLocation


class LocationService:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings

    async def seed(self) -> None:
        """Make sure the configured locations exist, folders and rows; one of them active."""
        roots = list(self.settings.project_locations) or [self.settings.home / "projects"]
        real = [make_folder(root) for root in roots]
        async with self.database.write() as db:
            repo = LocationRepo(db)
            for path in real:
                await repo.add_if_missing(ids.new_id("loc"), path.name or str(path), str(path))
            if not any(location.is_active for location in await repo.all()):
                first = await repo.by_path(str(real[0]))
                if first is not None:
                    await repo.set_active(first.id)

    async def all(self) -> list[ProjectLocation]:
        async with self.database.read() as db:
            return await LocationRepo(db).all()

    async def roots(self) -> list[Path]:
        """Every location's folder, configured or added since."""
        configured = list(self.settings.project_locations) or [self.settings.home / "projects"]
        return [*configured, *(Path(location.path) for location in await self.all())]

    async def save(
        self, path: str, name: str | None, active: bool, force: bool = False
    ) -> tuple[ProjectLocation, bool]:
        """Add a location, or rename the one at the same real path; True when added.
        A system folder or Roost's home is refused as a new location unless ``force``."""
        if not path.startswith("/"):
            raise InvalidPath(path)
        wanted = Path(_real(path))
        async with self.database.read() as db:
            known = await LocationRepo(db).by_path(str(wanted)) is not None
        reason = None if known or force else self.reserved(wanted)
        if reason is not None:
            raise PathReserved(
                f"{wanted} is {reason}: send force: true to make it a location anyway", str(wanted)
            )
        real = make_folder(Path(path))
        async with self.database.write() as db:
            repo = LocationRepo(db)
            found = await repo.by_path(str(real))
            created = found is None
            if found is None:
                await repo.add_if_missing(
                    ids.new_id("loc"), name or real.name or str(real), str(real)
                )
            elif name:
                found.name = name
            location = await repo.by_path(str(real))
            assert location is not None
            if active:
                await repo.set_active(location.id)
        return await self._reloaded(location.id), created

    def reserved(self, path: Path) -> str | None:
        """Why ``path`` (a real path) is no place for projects, or None."""
        home = self.settings.home.resolve()
        if str(path) in SYSTEM_FOLDERS or any(path.is_relative_to(t) for t in SYSTEM_TREES):
            return "a system folder"
        if home.is_relative_to(path):
            return "Roost's home or a folder holding it"
        return None

    async def activate(self, given: str) -> ProjectLocation:
        """Make the location with this id (or path) the one new projects go to."""
        async with self.database.write() as db:
            repo = LocationRepo(db)
            location = await repo.get(given)
            if location is None and given.startswith("/"):
                location = await repo.by_path(_real(given))
            if location is None:
                raise LocationNotFound(given)
            await repo.set_active(location.id)
        return await self._reloaded(location.id)

    async def delete(self, location_id: str) -> None:
        """Remove a boundary: projects in it keep their record but their folders become
        unavailable to tools until it (or a location around them) is added again."""
        async with self.database.write() as db:
            repo = LocationRepo(db)
            location = await repo.get(location_id)
            if location is None:
                raise LocationNotFound(location_id)
            await repo.remove(location)
            rest = await repo.all()
            if location.is_active and rest:
                await repo.set_active(rest[0].id)

    async def place(self, given: str | None, name: str) -> Placement:
        """The real folder of a project: ``given`` absolute, relative to the active location,
        or named after the project there; refused unless strictly inside a location, and
        refused where it would hold Roost's own data (its database, keys and logs)."""
        placement = _placed(given, name, await self.all())
        home, path = self.settings.home.resolve(), placement.path
        location = Path(placement.location.path)
        # Inside the home only through a location made for projects there (home/projects).
        projects_in_home = location != home and location.is_relative_to(home)
        if home.is_relative_to(path) or (path.is_relative_to(home) and not projects_in_home):
            raise PathReserved(f"{path} would hold Roost's own data", str(path))
        return placement

    async def check_inside(self, path: str) -> ProjectLocation | None:
        """The location a project folder is inside today, if any."""
        return containing(path, await self.all())

    async def _reloaded(self, location_id: str) -> ProjectLocation:
        async with self.database.read() as db:
            location = await LocationRepo(db).get(location_id)
        if location is None:
            raise LocationNotFound(location_id)
        return location


def _placed(given: str | None, name: str, locations: list[ProjectLocation]) -> Placement:
    if given and Path(given).is_absolute():
        candidate = Path(given)
    else:
        active = next((loc for loc in locations if loc.is_active), None)
        if active is None:
            raise NoActiveLocation()
        candidate = Path(active.path) / (given or folder_name(name))
    real = candidate.resolve()
    location = containing(real, locations)
    if location is None:
        raise outside_locations(given or str(candidate), locations)
    return Placement(real, location)


def containing(path: str | Path, locations: list[ProjectLocation]) -> ProjectLocation | None:
    """The innermost location ``path`` lies strictly inside, by real paths (a location
    itself is no project's folder)."""
    real = Path(path).resolve()
    inside = []
    for location in locations:
        root = Path(location.path).resolve()
        if real != root and real.is_relative_to(root):
            inside.append((len(root.parts), location))
    return max(inside, key=lambda pair: pair[0])[1] if inside else None


def outside_locations(given: str, locations: list[ProjectLocation]) -> PathOutsideLocations:
    return PathOutsideLocations(given, [location.path for location in locations])


def folder_name(name: str) -> str:
    """A folder name from a project name: ``My Project!`` → ``my-project``."""
    cleaned = re.sub(r"[^\w.-]+", "-", name.strip().lower()).strip("-.")
    return cleaned[:MAX_FOLDER_NAME].strip("-.") or "project"


def _real(given: str) -> str:
    return str(Path(given).resolve())


def make_folder(path: Path) -> Path:
    """The real path of a folder, made if missing."""
    try:
        path.expanduser().mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        pass  # something that is not a folder: refused just below
    except OSError as error:
        raise PathUnavailable(str(path), error.strerror) from error
    real = path.expanduser().resolve()
    if not real.is_dir():
        raise PathNotADirectory(str(path))
    return real
