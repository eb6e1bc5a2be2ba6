"""What admins send and receive under ``/api/admin``."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt, StringConstraints, computed_field

from roost.api.schemas.auth import Email, Password, UserOut
from roost.api.schemas.common import ClientModel, ListOut, Name, NoNul, Timestamp, Title
from roost.api.schemas.sessions import SessionOut
from roost.clock import utcnow
from roost.domain.turn_status import TurnStatus
from roost.services.admin import OwnedSession, ServerStats
from roost.services.admin_invites import MAX_BATCH, InviteStats, InviteStatus, status_of
from roost.services.admin_users import UserStats, is_local
from roost.store.models import InviteCode, User

MAX_INVITE_USES = 100_000
CustomCode = Annotated[
    str,
    StringConstraints(strict=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{3,63}$"),
    NoNul,
]
Note = Title
MaxUses = Annotated[StrictInt, Field(ge=1, le=MAX_INVITE_USES)]


# --- users ------------------------------------------------------------------------------


class UserCreateIn(ClientModel):
    email: Email
    password: Password
    name: Name = ""
    is_admin: StrictBool = False


class UserUpdateIn(ClientModel):
    """Only the fields sent (and not null) change. A new password ends the user's logins."""

    name: Name | None = None
    email: Email | None = None
    is_admin: StrictBool | None = None
    is_active: StrictBool | None = None
    password: Password | None = None


class AdminUserOut(UserOut):
    local: bool = Field(description="The owner of single-user mode: no login, not deletable.")
    updated_at: Timestamp

    @classmethod
    def of(cls, user: User) -> "AdminUserOut":
        return cls(**dict(UserOut.of(user)), local=is_local(user), updated_at=user.updated_at)


class UserListOut(ListOut[AdminUserOut]):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def users(self) -> list[AdminUserOut]:
        """Oqto's key for the same list."""
        return self.data


class UserStatsOut(BaseModel):
    total: int
    active: int
    inactive: int
    admins: int
    created_last_7_days: int
    created_last_30_days: int
    logged_in_last_7_days: int

    @classmethod
    def of(cls, stats: UserStats) -> "UserStatsOut":
        return cls(**vars(stats))


# --- invite codes -------------------------------------------------------------------------


class InviteCodeIn(ClientModel):
    max_uses: MaxUses = 1
    expires_at: datetime | None = Field(None, description="UTC when no zone is given.")
    note: Note = ""
    code: CustomCode | None = Field(
        None, description="4 to 64 letters, digits, `-` or `_`; random when left out."
    )


class InviteBatchIn(ClientModel):
    count: Annotated[StrictInt, Field(ge=1, le=MAX_BATCH)]
    max_uses: MaxUses = 1
    expires_at: datetime | None = None
    note: Note = ""


class InviteCodeOut(BaseModel):
    id: str
    code: str
    note: str
    max_uses: int
    uses: int
    remaining: int
    expires_at: Timestamp | None
    revoked_at: Timestamp | None
    created_by: str | None
    created_at: Timestamp
    status: InviteStatus

    @classmethod
    def of(cls, invite: InviteCode) -> "InviteCodeOut":
        return cls(
            id=invite.id,
            code=invite.code,
            note=invite.note,
            max_uses=invite.max_uses,
            uses=invite.uses,
            remaining=max(0, invite.max_uses - invite.uses),
            expires_at=invite.expires_at,
            revoked_at=invite.revoked_at,
            created_by=invite.created_by,
            created_at=invite.created_at,
            status=status_of(invite, utcnow()),
        )


class InviteCodeListOut(ListOut[InviteCodeOut]):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def invite_codes(self) -> list[InviteCodeOut]:
        """Oqto's key for the same list."""
        return self.data


class InviteStatsOut(BaseModel):
    total: int = Field(description="active + used_up + expired + revoked.")
    active: int
    used_up: int
    expired: int
    revoked: int
    total_uses: int = Field(description="Registrations made with any code.")
    remaining_uses: int = Field(description="Registrations the active codes still allow.")

    @classmethod
    def of(cls, stats: InviteStats) -> "InviteStatsOut":
        return cls(**vars(stats))


# --- sessions and the server --------------------------------------------------------------


class AdminSessionOut(SessionOut):
    owner_id: str
    owner_email: str | None

    @classmethod
    def owned(cls, found: OwnedSession) -> "AdminSessionOut":
        return cls(
            **SessionOut.of(found.session).model_dump(),
            owner_id=found.session.owner_id,
            owner_email=found.owner_email,
        )


class AdminSessionListOut(ListOut[AdminSessionOut]):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def sessions(self) -> list[AdminSessionOut]:
        """Oqto's key for the same list."""
        return self.data


class TurnCountsOut(BaseModel):
    total: int
    running: int = Field(description="Running now.")
    queued: int
    by_status: dict[str, int]


class TokenCountsOut(BaseModel):
    input_tokens: int
    output_tokens: int
    total_tokens: int


class DatabaseOut(BaseModel):
    backend: str = Field(description="`sqlite` or `postgresql`.")


class ServerStatsOut(BaseModel):
    users: UserStatsOut
    sessions: int
    messages: int
    turns: TurnCountsOut
    tokens: TokenCountsOut
    database: DatabaseOut
    version: str

    @classmethod
    def of(cls, stats: ServerStats) -> "ServerStatsOut":
        by_status = stats.turns_by_status
        return cls(
            users=UserStatsOut.of(stats.users),
            sessions=stats.sessions,
            messages=stats.messages,
            turns=TurnCountsOut(
                total=sum(by_status.values()),
                running=by_status.get(TurnStatus.RUNNING, 0),
                queued=by_status.get(TurnStatus.QUEUED, 0),
                by_status=by_status,
            ),
            tokens=TokenCountsOut(
                input_tokens=stats.input_tokens,
                output_tokens=stats.output_tokens,
                total_tokens=stats.input_tokens + stats.output_tokens,
            ),
            database=DatabaseOut(backend=stats.database_backend),
            version=stats.version,
        )
