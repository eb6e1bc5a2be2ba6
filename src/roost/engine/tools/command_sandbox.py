"""The operating-system sandbox ``run_command`` runs in: bubblewrap (``bwrap``).

Inside it the system is read-only, the project folder is the only writable place
besides a private ``/tmp`` and the call's empty HOME, and Roost's own data (its home,
database, key and config files) and every project location are hidden behind empty
folders, so that a command cannot read the server's secrets or another project. The
command gets new namespaces for everything (no network unless allowed, its own process
tree, which ends with the call), a session of its own (no terminal to inject keys
into) and no capabilities, which matters when Roost runs as root: a root without
capabilities cannot unmount what hides the secrets or remount the system writable.

Whether bubblewrap works here is checked once by running it: a container without user
namespaces, or a kernel that refuses them, leaves Roost without this sandbox.
"""

import functools
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("roost.tools")

PROBE_SECONDS = 10.0
# Hidden behind an empty folder whatever the settings: other users' homes, sockets of
# local services (a database's, a container engine's) and the shared temporary folder.
ALWAYS_HIDDEN = ("/root", "/home", "/run", "/var/run", "/tmp")  # noqa: S108 - hidden, not used
PRIVATE_TMP = Path("/tmp")  # noqa: S108 - the one hidden folder left writable
# A folder holding one of these is never hidden: the command could not run without it.
NEEDED = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc", "/opt")


@dataclass(frozen=True)
class Confinement:
    """What one command may see: ``project`` writable, ``home`` its HOME, a private
    /tmp, the rest of the system read-only but for ``hidden`` folders (made empty) and
    files (made empty, even inside the project)."""

    project: Path
    cwd: Path
    home: Path
    hidden: tuple[Path, ...] = ()
    network: bool = False


@dataclass(frozen=True)
class Bubblewrap:
    binary: str

    def argv(self, command: list[str], confinement: Confinement) -> list[str]:
        """``command`` as run inside the sandbox; later mounts cover earlier ones."""
        flags = ["--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL"]
        if confinement.network:
            flags.append("--share-net")
        mounts = ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
        project = confinement.project.resolve()
        folders, files = _split([*map(Path, ALWAYS_HIDDEN), *confinement.hidden], project)
        for folder in folders:
            if not folder.is_relative_to(project):
                mounts += ["--tmpfs", str(folder)]
        for writable in (project, confinement.home):
            mounts += ["--bind", str(writable), str(writable)]
        # After the project, so that what lies inside it is hidden too.
        for folder in folders:
            if folder.is_relative_to(project):
                mounts += ["--tmpfs", str(folder)]
        for folder in folders:  # once what lies inside has its mount point
            if folder != PRIVATE_TMP:
                mounts += ["--remount-ro", str(folder)]
        for file in files:
            mounts += ["--ro-bind", "/dev/null", str(file)]
        return [self.binary, *flags, *mounts, "--chdir", str(confinement.cwd), "--", *command]


def _split(paths: Iterable[Path], project: Path) -> tuple[list[Path], list[Path]]:
    """Existing folders that can be hidden, shortest first (a folder hidden after one
    inside it would uncover nothing, but after one around it is wasted), and files."""
    folders: set[Path] = set()
    files: set[Path] = set()
    for given in paths:
        try:
            path = given.resolve()
        except (OSError, RuntimeError):
            continue
        if path.is_dir():
            if path != project and not any(Path(n).is_relative_to(path) for n in NEEDED):
                folders.add(path)
        elif path.is_file():
            files.add(path)
    # A file in a hidden folder is hidden with it, unless the project shows it again.
    shown = [
        file
        for file in files
        if file.is_relative_to(project) or not any(file.is_relative_to(f) for f in folders)
    ]
    return sorted(folders, key=lambda p: len(p.parts)), sorted(shown)


@functools.cache
def find_bubblewrap(configured: str) -> Bubblewrap | None:
    """The bubblewrap named by ``configured`` (a path or a program on PATH), when it is
    installed and really sandboxes a command here; None otherwise."""
    found = shutil.which(configured)
    if found is None:
        log.warning("bubblewrap not found (%s): run_command is for admins only", configured)
        return None
    bubblewrap = Bubblewrap(found)
    with tempfile.TemporaryDirectory(prefix="roost-probe-") as folder:
        place = Path(folder).resolve()
        argv = bubblewrap.argv(["/bin/true"], Confinement(place, place, place))
        try:
            probe = subprocess.run(  # noqa: S603 - our own arguments, no shell
                argv, capture_output=True, timeout=PROBE_SECONDS, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            log.warning("bubblewrap cannot run (%s): run_command is for admins only", error)
            return None
    if probe.returncode != 0:
        reason = probe.stderr.decode(errors="replace").strip()
        log.warning("bubblewrap does not work here (%s): run_command is for admins only", reason)
        return None
    return bubblewrap
