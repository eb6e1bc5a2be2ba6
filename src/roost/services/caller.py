"""Who is asking: every service call names its caller."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    user_id: str
    is_admin: bool = False
    authenticated: bool = True
