"""Who is asking: every service call names its caller."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    user_id: str
    is_admin: bool = False
    authenticated: bool = True
    # What rate limits count: "user:<id>", "key:<id>" or "ip:<address>".
    principal: str = ""
    # An API key's scopes; None means everything the user may do.
    scopes: frozenset[str] | None = None
    login_id: str | None = None

    @property
    def anonymous(self) -> bool:
        return not self.user_id

    @property
    def acts_as_admin(self) -> bool:
        """An admin, through a credential that carries the admin scope."""
        return self.is_admin and (self.scopes is None or "admin" in self.scopes)
