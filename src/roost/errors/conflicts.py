"""409: the request is fine, but what it would change is in a state that refuses it."""

from roost.errors.base import Conflict


class AlreadyExists(Conflict):
    """A unique name, path or code is taken."""

    code = "ALREADY_EXISTS"


class McpServerExists(Conflict):
    code = "MCP_SERVER_EXISTS"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"An MCP server named {name} exists", details={"field": "name", "name": name}
        )


class TurnInProgress(Conflict):
    code = "TURN_IN_PROGRESS"

    def __init__(self, turn_id: str, session_id: str) -> None:
        super().__init__(
            "A turn is already running in this session",
            details={"turn_id": turn_id, "session_id": session_id},
        )


class TaskInProgress(Conflict):
    code = "TASK_IN_PROGRESS"

    def __init__(self, task_id: str, status: str) -> None:
        super().__init__(
            f"Task {task_id} is {status}: stop it first",
            details={"task_id": task_id, "status": status},
        )


class DelegationLimit(Conflict):
    code = "DELEGATION_LIMIT_REACHED"

    def __init__(self, limit: str, most: int) -> None:
        what = "deep" if limit == "depth" else "many children from one turn"
        super().__init__(
            f"Delegation goes at most {most} {'levels ' if limit == 'depth' else ''}{what}",
            details={"limit": limit, "max": most},
        )


class InputNotPending(Conflict):
    code = "INPUT_NOT_PENDING"

    def __init__(self, request_id: str, status: str) -> None:
        super().__init__(
            f"Input request {request_id} is {status}, not waiting for an answer",
            details={"request_id": request_id, "status": status},
        )


class ProjectFolderUnavailable(Conflict):
    code = "PROJECT_FOLDER_UNAVAILABLE"

    def __init__(self, project_id: str, path: str) -> None:
        super().__init__(
            f"The folder of project {project_id} is missing or outside every location",
            details={"project_id": project_id, "path": path},
        )


class PathInUse(Conflict):
    """Locations are shared: one user's folder must not become another's sandbox."""

    code = "PATH_IN_USE"

    def __init__(self, path: str) -> None:
        super().__init__(
            f"{path} is, holds or lies inside another user's project", details={"path": path}
        )


class PathNotEmpty(Conflict):
    code = "PATH_NOT_EMPTY"

    def __init__(self, path: str) -> None:
        super().__init__(f"{path} exists and is not empty", details={"path": path})


class PathReserved(Conflict):
    """A system folder or Roost's own data, which a location may not be or hold."""

    code = "PATH_RESERVED"

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message, details={"path": path})


class IdempotencyAnswerNotKept(Conflict):
    code = "IDEMPOTENCY_ANSWER_NOT_KEPT"

    def __init__(self, status_code: int | None) -> None:
        super().__init__(
            "The request with this Idempotency-Key succeeded, but its answer held a secret, "
            "which is shown once and never kept",
            details={"status_code": status_code},
        )


class IdempotencyKeyInUse(Conflict):
    code = "IDEMPOTENCY_KEY_IN_USE"

    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still running; retry after it ends",
            headers={"Retry-After": "1"},
        )
