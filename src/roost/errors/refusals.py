"""400, 403 and 413 with codes of their own: a request Roost understood and refuses."""

from roost.errors.base import Forbidden, InvalidRequest, PayloadTooLarge


class InvalidInputResponse(InvalidRequest):
    """An answer to a question or approval that does not fit its kind."""

    code = "INVALID_INPUT_RESPONSE"


class InvalidIdempotencyKey(InvalidRequest):
    code = "INVALID_IDEMPOTENCY_KEY"

    def __init__(self) -> None:
        super().__init__("Idempotency-Key must be 1 to 255 printable ASCII characters")


class IdempotencyKeyReused(InvalidRequest):
    """The key was used for another request, or by another credential."""

    code = "IDEMPOTENCY_KEY_REUSED"


class NoActiveProject(InvalidRequest):
    code = "NO_ACTIVE_PROJECT"

    def __init__(self) -> None:
        super().__init__("No project_id given and no active project")


class NoActiveLocation(InvalidRequest):
    code = "NO_ACTIVE_LOCATION"

    def __init__(self) -> None:
        super().__init__("No active location to put the project in; give an absolute path")


class InvalidPath(InvalidRequest):
    code = "INVALID_PATH"

    def __init__(self, path: str) -> None:
        super().__init__("A location is an absolute path", details={"path": path})


class PathOutsideLocations(InvalidRequest):
    code = "PATH_OUTSIDE_LOCATIONS"

    def __init__(self, path: str, locations: list[str]) -> None:
        super().__init__(
            f"{path} is not inside any project location",
            details={"path": path, "locations": locations},
        )


class PathUnavailable(InvalidRequest):
    code = "PATH_UNAVAILABLE"

    def __init__(self, path: str, reason: str | None) -> None:
        super().__init__(f"The folder {path} cannot be made: {reason}", details={"path": path})


class PathNotADirectory(InvalidRequest):
    code = "PATH_NOT_A_DIRECTORY"

    def __init__(self, path: str) -> None:
        super().__init__(f"{path} is not a folder", details={"path": path})


class NoFiles(InvalidRequest):
    code = "NO_FILES"

    def __init__(self) -> None:
        super().__init__("Send at least one file (form field file)")


class InvalidFileName(InvalidRequest):
    code = "INVALID_FILE_NAME"

    def __init__(self, filename: str) -> None:
        super().__init__(f"{filename!r} is not a usable file name", details={"filename": filename})


class FileNotText(InvalidRequest):
    code = "FILE_NOT_TEXT"

    def __init__(self, path: str) -> None:
        super().__init__(f"{path} is not UTF-8 text; download it", details={"path": path})


class NotAnImage(InvalidRequest):
    code = "NOT_AN_IMAGE"

    def __init__(self, path: str, served: list[str]) -> None:
        super().__init__(
            f"{path} is not an image Roost serves ({', '.join(served)})", details={"path": path}
        )


# A project sandbox's refusals, worded by the sandbox (see services/sandbox_errors.py).


class PathOutsideProject(InvalidRequest):
    code = "PATH_OUTSIDE_PROJECT"


class NotADirectory(InvalidRequest):
    code = "NOT_A_DIRECTORY"


class NotAFile(InvalidRequest):
    code = "NOT_A_FILE"


class DirectoryNotEmpty(InvalidRequest):
    code = "DIRECTORY_NOT_EMPTY"


class FileOperationFailed(InvalidRequest):
    code = "FILE_OPERATION_FAILED"


class PathDenied(Forbidden):
    code = "PATH_DENIED"


class ProjectReadOnly(Forbidden):
    code = "PROJECT_READ_ONLY"


class SandboxLooseningForbidden(Forbidden):
    code = "SANDBOX_LOOSENING_FORBIDDEN"

    def __init__(self, fields: list[str], project_id: str) -> None:
        super().__init__(
            "Only an admin may lift a project's sandbox restrictions",
            details={"fields": fields, "project_id": project_id},
        )


class ApprovalRequired(Forbidden):
    code = "APPROVAL_REQUIRED"

    def __init__(self, tool: str) -> None:
        super().__init__(
            f"{tool} needs the user's approval for each call, so it runs only in a turn",
            details={"tool": tool},
        )


class FileTooLarge(PayloadTooLarge):
    code = "FILE_TOO_LARGE"

    def __init__(self, path: str, max_bytes: int, hint: str = "") -> None:
        super().__init__(
            f"{path} is over {max_bytes // 1024} KiB{hint}",
            details={"path": path, "max_bytes": max_bytes},
        )


class TemplateTooLarge(PayloadTooLarge):
    code = "TEMPLATE_TOO_LARGE"

    def __init__(self, template: str, max_files: int, max_bytes: int) -> None:
        super().__init__(
            f"Template {template} is over {max_files} files or {max_bytes // (1024 * 1024)} MiB",
            details={"template": template},
        )


class ProjectContextTooLarge(PayloadTooLarge):
    code = "PROJECT_CONTEXT_TOO_LARGE"

    def __init__(self, entries: int, max_entries: int, used: int, budget_bytes: int) -> None:
        super().__init__(
            f"A project's files and snippets are limited to {max_entries} entries and "
            f"{budget_bytes // 1024} KiB in all",
            details={
                "entries": entries,
                "max_entries": max_entries,
                "bytes": used,
                "budget_bytes": budget_bytes,
            },
        )
