"""The root of every error a client may see, the families that fix its HTTP status, and
the registry of codes.

    ApiError                     code, status, message, details (not raised itself)
    ├── InvalidRequest           400 INVALID_REQUEST: well-formed but unusable
    ├── ValidationFailed         422 VALIDATION_ERROR: the schema refused the input
    ├── Unauthorized             401 UNAUTHORIZED
    ├── Forbidden                403 FORBIDDEN
    ├── NotFound                 404 NOT_FOUND for a route; <THING>_NOT_FOUND below it
    ├── MethodNotAllowed         405 METHOD_NOT_ALLOWED
    ├── Conflict                 409 (a family only: ALREADY_EXISTS, TURN_IN_PROGRESS, …)
    ├── PayloadTooLarge          413 PAYLOAD_TOO_LARGE
    ├── RateLimited              429 RATE_LIMITED
    ├── InternalError            500 INTERNAL_ERROR
    ├── UpstreamError            502 UPSTREAM_ERROR
    ├── ServiceUnavailable       503 (a family only: PROVIDER_NOT_CONFIGURED)
    └── HttpError                any other status the HTTP framework answers

Every concrete class owns one code, so :func:`by_code` can rebuild a stored error (a
failed turn's) as the class it was raised as.
"""

from collections.abc import Mapping
from typing import Any, Self

_BY_CODE: dict[str, type["ApiError"]] = {}


class ApiError(Exception):
    status: int = 500  # a class's own, except HttpError's
    code: str = "INTERNAL_ERROR"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers

    def __init_subclass__(cls, *, family: bool = False, **kwargs: Any) -> None:
        """Register each concrete class under its own code; a family only groups."""
        super().__init_subclass__(**kwargs)
        if family:
            return
        if "code" not in cls.__dict__:
            raise TypeError(f"{cls.__name__} must name its own code")
        known = _BY_CODE.setdefault(cls.code, cls)
        if known is not cls:
            raise TypeError(f"{cls.__name__} reuses {cls.code}, the code of {known.__name__}")

    @classmethod
    def make(cls, message: str, details: Mapping[str, Any] | None = None) -> Self:
        """The error with this message and details, as stored or as a sandbox words it,
        past the constructor that builds them from ids."""
        error = cls.__new__(cls)
        ApiError.__init__(error, message, details=dict(details or {}))
        return error

    def body(self) -> dict[str, Any]:
        """``code``, ``message`` and ``details``: the envelope's and a stream event's core."""
        return {"code": self.code, "message": self.message, "details": self.details}


def by_code(code: str) -> type[ApiError]:
    """The class of ``code``; KeyError for a code no class has."""
    return _BY_CODE[code]


def codes() -> dict[str, type[ApiError]]:
    """Every code Roost can report, with its class."""
    return dict(_BY_CODE)


def restored(stored: Mapping[str, Any]) -> ApiError:
    """An error kept as ``{code, message, details}``, as its class (an unknown code as
    an internal error, keeping its message)."""
    kind = _BY_CODE.get(str(stored.get("code")), InternalError)
    return kind.make(str(stored.get("message", "")), stored.get("details"))


def envelope(error: ApiError, request_id: str | None) -> dict[str, Any]:
    """The one JSON shape of every error response (API.md §2)."""
    return {"error": error.body(), "request_id": request_id}


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


class Conflict(ApiError, family=True):
    status = 409


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
    """The model provider failed; ``status`` is the provider's HTTP status, if it sent one
    (this answer's own is always 502)."""

    status = 502
    code = "UPSTREAM_ERROR"

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None,
        retry_after: float | None = None,
    ) -> None:
        details: dict[str, object] = {"provider": provider, "status": status}
        if retry_after is not None:  # what the provider asked for, after Roost's own retries
            details["retry_after_seconds"] = retry_after
        super().__init__(message, details=details)


class ServiceUnavailable(ApiError, family=True):
    status = 503


class HttpError(ApiError):
    """A status the HTTP framework answered that no other class stands for."""

    code = "HTTP_ERROR"

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
