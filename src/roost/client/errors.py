"""What the client raises: the server's error envelope as an exception, one class per
kind of status a caller is likely to handle on its own."""

import json
from collections.abc import Mapping
from typing import Any

import httpx


class RoostError(Exception):
    """An error answer from the server, or no answer at all.

    ``status`` is the HTTP status (0 when no response was received), ``code`` the stable
    machine-readable code of the error envelope (``SESSION_NOT_FOUND``), ``details`` what
    the code is about, and ``request_id`` the server's ``X-Request-ID`` for its logs.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}" if status else f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        self.request_id = request_id
        self.headers: dict[str, str] = dict(headers or {})


class BadRequestError(RoostError):
    """400: well formed, but unusable (an empty message, a cursor naming nothing)."""


class AuthenticationError(RoostError):
    """401: the token is missing, invalid, expired or revoked."""


class PermissionDeniedError(RoostError):
    """403: authenticated, but not allowed."""


class NotFoundError(RoostError):
    """404: no such object, or it belongs to someone else."""


class ConflictError(RoostError):
    """409: conflicts with the current state (``TURN_IN_PROGRESS``, ``INPUT_NOT_PENDING``)."""


class UnprocessableError(RoostError):
    """422: the request does not match the schema; ``details["fields"]`` says where."""


class RateLimitedError(RoostError):
    """429: over a rate limit, after the client's own retries."""

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked to wait, when it said."""
        value = self.details.get("retry_after_seconds", self.headers.get("retry-after"))
        try:
            return float(value) if value is not None else None
        except (TypeError, ValueError):
            return None


class ServerError(RoostError):
    """5xx: the server or the model provider failed (``UPSTREAM_ERROR``, ``INTERNAL_ERROR``)."""


class APIConnectionError(RoostError):
    """No usable answer: the server could not be reached, the connection broke, or a
    stream could not be resumed. ``status`` is 0."""

    def __init__(self, message: str, code: str = "CONNECTION_ERROR") -> None:
        super().__init__(0, code, message)


_BY_STATUS: dict[int, type[RoostError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableError,
    429: RateLimitedError,
}


def error_class(status: int) -> type[RoostError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else RoostError


# The status each code has over HTTP (api.md's errors table), for the error frames of
# the WebSocket, which carry none: those a frame can bring, and the rules of the rest.
_CODE_STATUS = {
    "UNAUTHORIZED": 401,
    "FORBIDDEN": 403,
    "VALIDATION_ERROR": 422,
    "RATE_LIMITED": 429,
    "INTERNAL_ERROR": 500,
    "UPSTREAM_ERROR": 502,
    "PROVIDER_NOT_CONFIGURED": 503,
}
_CONFLICTS = ("_IN_PROGRESS", "_NOT_PENDING", "_EXISTS", "_IN_USE")


def status_of_code(code: str) -> int:
    """The HTTP status of an error code: 400 for a request refused otherwise."""
    if code in _CODE_STATUS:
        return _CODE_STATUS[code]
    if code.endswith("_NOT_FOUND"):
        return 404
    return 409 if code.endswith(_CONFLICTS) else 400


def error_from_frame(error: Any) -> RoostError:
    """The exception for a WebSocket error frame's ``error`` (``{code, message,
    details}``), with the status its code has over HTTP."""
    body = error if isinstance(error, dict) else {}
    code = str(body.get("code") or "INVALID_REQUEST")
    message = str(body.get("message") or code)
    details = body.get("details") if isinstance(body.get("details"), dict) else {}
    status = status_of_code(code)
    return error_class(status)(status, code, message, details)


def error_from_response(response: httpx.Response) -> RoostError:
    """The exception for an error answer whose body has been read.

    A body that is not the envelope (a proxy's HTML page, an empty 502) still gives an
    error with the status, under the code ``HTTP_ERROR``, as the server itself does for
    statuses it has no code for."""
    code, message = "HTTP_ERROR", response.reason_phrase or "HTTP error"
    details: dict[str, Any] = {}
    request_id = response.headers.get("x-request-id")
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        code = str(error.get("code") or code)
        message = str(error.get("message") or message)
        details = error.get("details") if isinstance(error.get("details"), dict) else {}
        request_id = body.get("request_id") or request_id
    elif response.content:
        message = response.text[:500]
    status = response.status_code
    headers = {k.lower(): v for k, v in response.headers.items()}
    return error_class(status)(status, code, message, details, request_id, headers=headers)
