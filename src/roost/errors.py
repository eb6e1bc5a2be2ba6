"""Every error Roost reports, as one family rendered in one envelope.

    ApiError                     any error a client may see: code, status, message, details
    ├── InvalidRequest           400 INVALID_REQUEST: well-formed but unusable
    ├── ValidationFailed         422 VALIDATION_ERROR: the schema refused the input
    ├── Unauthorized             401 UNAUTHORIZED
    ├── Forbidden                403 FORBIDDEN
    ├── NotFound                 404 <THING>_NOT_FOUND (or NOT_FOUND for a route)
    ├── MethodNotAllowed         405 METHOD_NOT_ALLOWED
    ├── Conflict                 409 ALREADY_EXISTS, TURN_IN_PROGRESS, …
    ├── PayloadTooLarge          413 PAYLOAD_TOO_LARGE
    ├── RateLimited              429 RATE_LIMITED
    ├── InternalError            500 INTERNAL_ERROR
    ├── UpstreamError            502 UPSTREAM_ERROR
    └── ServiceUnavailable       503 SERVICE_UNAVAILABLE, PROVIDER_NOT_CONFIGURED

Services raise these; the HTTP layer renders them with :func:`envelope`, and stream
``error`` events carry the same ``code`` and ``message``.
"""

from typing import Any


class ApiError(Exception):
    status = 500
    code = "INTERNAL_ERROR"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}
        self.headers = headers


class InvalidRequest(ApiError):
    status = 400
    code = "INVALID_REQUEST"


class ValidationFailed(ApiError):
    status = 422
    code = "VALIDATION_ERROR"

    def __init__(self, message: str, fields: list[dict[str, str]]) -> None:
        super().__init__(message, details={"fields": fields})


class Unauthorized(ApiError):
    status = 401
    code = "UNAUTHORIZED"


class Forbidden(ApiError):
    status = 403
    code = "FORBIDDEN"


class NotFound(ApiError):
    status = 404
    code = "NOT_FOUND"


class MethodNotAllowed(ApiError):
    status = 405
    code = "METHOD_NOT_ALLOWED"


class Conflict(ApiError):
    status = 409
    code = "CONFLICT"


class PayloadTooLarge(ApiError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class RateLimited(ApiError):
    status = 429
    code = "RATE_LIMITED"


class InternalError(ApiError):
    status = 500
    code = "INTERNAL_ERROR"


class UpstreamError(ApiError):
    status = 502
    code = "UPSTREAM_ERROR"


class ServiceUnavailable(ApiError):
    status = 503
    code = "SERVICE_UNAVAILABLE"


def session_not_found(session_id: str) -> NotFound:
    return NotFound(
        f"Session {session_id} not found",
        code="SESSION_NOT_FOUND",
        details={"session_id": session_id},
    )


def message_not_found(message_id: str) -> NotFound:
    return NotFound(
        f"Message {message_id} not found",
        code="MESSAGE_NOT_FOUND",
        details={"message_id": message_id},
    )


def envelope(error: ApiError, request_id: str | None) -> dict[str, Any]:
    """The one JSON shape of every error response (API.md §2)."""
    return {
        "error": {"code": error.code, "message": error.message, "details": error.details},
        "request_id": request_id,
    }
