"""API-key scopes: what a credential holds, and what a key made through it may get.

A key never grants more than the credential that makes it: a login holds everything its
user may do, an API key only its own scopes. ``admin`` is held only by an admin's
credential. "Everything I hold" is said by leaving the scopes out, never by an empty
list."""

from roost.errors import Forbidden, InvalidRequest, ValidationFailed
from roost.services.caller import Caller

SCOPES = frozenset({"read", "write", "admin"})


def held(caller: Caller) -> frozenset[str]:
    user = SCOPES if caller.is_admin else SCOPES - {"admin"}
    return user if caller.scopes is None else user & caller.scopes


def granted(caller: Caller, asked: list[str] | None) -> list[str]:
    """The scopes a new key gets: those asked, when ``caller`` holds them all; or,
    when none are named, the caller's own."""
    holds = held(caller)
    if asked is None:
        return sorted(holds)
    if not asked:
        reason = "name at least one scope, or leave scopes out for your own"
        raise ValidationFailed(
            "A key needs scopes", [{"field": "scopes", "in": "body", "reason": reason}]
        )
    unknown = set(asked) - SCOPES
    if unknown:
        raise InvalidRequest(f"Unknown scopes: {sorted(unknown)}", details={"field": "scopes"})
    missing = set(asked) - holds
    if missing:
        raise Forbidden(
            "A key cannot grant scopes its maker does not hold",
            details={"field": "scopes", "not_held": sorted(missing)},
        )
    return sorted(set(asked))
