"""A project sandbox's refusals as a client sees them: a path denied by the policy (403),
outside the project or through a link (400), not there (404), in the way (409)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from roost.engine.tools.sandbox import Sandbox, SandboxError
from roost.errors import ApiError, Conflict, Forbidden, InvalidRequest, NotFound

_ANSWERS: dict[str, tuple[type[ApiError], str]] = {
    "outside": (InvalidRequest, "PATH_OUTSIDE_PROJECT"),
    "denied": (Forbidden, "PATH_DENIED"),
    "missing": (NotFound, "FILE_NOT_FOUND"),
    "not_a_directory": (InvalidRequest, "NOT_A_DIRECTORY"),
    "not_a_file": (InvalidRequest, "NOT_A_FILE"),
    "exists": (Conflict, "ALREADY_EXISTS"),
    "not_empty": (InvalidRequest, "DIRECTORY_NOT_EMPTY"),
    "read_only": (Forbidden, "PROJECT_READ_ONLY"),
    "invalid": (InvalidRequest, "INVALID_REQUEST"),
    "failed": (InvalidRequest, "FILE_OPERATION_FAILED"),
}


def file_not_found(path: str) -> NotFound:
    return NotFound(f"{path} does not exist", code="FILE_NOT_FOUND", details={"path": path})


def refused(error: SandboxError, given: str) -> ApiError:
    kind, code = _ANSWERS[error.reason]
    message = str(error)
    if error.reason == "not_empty":
        message += "; send recursive=true to delete it with its contents"
    return kind(message, code=code, details={"path": given, **error.details})


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
