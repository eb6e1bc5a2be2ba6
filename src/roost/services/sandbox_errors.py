"""A project sandbox's refusals as a client sees them: a path denied by the policy (403),
outside the project (400), or not there (404)."""

import os
from pathlib import Path

from roost.engine.tools.sandbox import Sandbox, SandboxError
from roost.errors import ApiError, Forbidden, InvalidRequest, NotFound


def file_not_found(path: str) -> NotFound:
    return NotFound(f"{path} does not exist", code="FILE_NOT_FOUND", details={"path": path})


def refused(error: SandboxError, sandbox: Sandbox, given: str) -> ApiError:
    spelled = os.path.normpath(os.path.join(sandbox.root, given))
    if spelled.startswith(f"{sandbox.root}{os.sep}") and sandbox.policy.denies(
        os.path.relpath(spelled, sandbox.root)
    ):
        return Forbidden(str(error), code="PATH_DENIED", details={"path": given})
    return InvalidRequest(str(error), code="PATH_OUTSIDE_PROJECT", details={"path": given})


def checked(sandbox: Sandbox, given: str) -> Path:
    """``given`` as a real path inside the project, allowed by its policy."""
    try:
        return sandbox.path(given)
    except SandboxError as error:
        raise refused(error, sandbox, given) from error


def existing(sandbox: Sandbox, given: str) -> Path:
    path = checked(sandbox, given)
    if not path.exists():
        raise file_not_found(given)
    return path
