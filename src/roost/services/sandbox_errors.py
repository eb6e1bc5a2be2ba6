"""A project sandbox's refusals as a client sees them: a path denied by the policy (403),
outside the project or through a link (400), not there (404), in the way (409)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from roost.engine.tools.sandbox import Sandbox, SandboxError
from roost.errors import (
    AlreadyExists,
    ApiError,
    DirectoryNotEmpty,
    FileNotFound,
    FileOperationFailed,
    InvalidRequest,
    NotADirectory,
    NotAFile,
    PathDenied,
    PathOutsideProject,
    ProjectReadOnly,
)

_ANSWERS: dict[str, type[ApiError]] = {
    "outside": PathOutsideProject,
    "denied": PathDenied,
    "missing": FileNotFound,
    "not_a_directory": NotADirectory,
    "not_a_file": NotAFile,
    "exists": AlreadyExists,
    "not_empty": DirectoryNotEmpty,
    "read_only": ProjectReadOnly,
    "invalid": InvalidRequest,
    "failed": FileOperationFailed,
}


def refused(error: SandboxError, given: str) -> ApiError:
    message = str(error)
    if error.reason == "not_empty":
        message += "; send recursive=true to delete it with its contents"
    return _ANSWERS[error.reason].make(message, {"path": given, **error.details})


@contextmanager
def answering(given: str) -> Iterator[None]:
    """Inside the block, a :class:`SandboxError` is the client's answer about ``given``."""
    try:
        yield
    except SandboxError as error:
        raise refused(error, given) from error


def existing(sandbox: Sandbox, given: str) -> Path:
    """``given`` as a path inside the project, there, allowed by its policy."""
    with answering(given):
        return sandbox.path(given, must_exist=True)
