"""Admin: invite codes — the way in when ``ROOST_REGISTRATION=invite``."""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from roost import ids
from roost.clock import utcnow
from roost.errors import InvalidRequest, InviteNotFound
from roost.services.caller import Caller
from roost.services.cursors import anchor
from roost.store.db import Database
from roost.store.invites import InviteRepo
from roost.store.models import InviteCode
from roost.store.paging import Page

InviteStatus = Literal["active", "used_up", "expired", "revoked"]
# No 0/O or 1/I/L: codes are read aloud and typed by hand. 16 characters, 80 bits.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_GROUPS = 4
CODE_GROUP_LENGTH = 4
MAX_BATCH = 100


def new_code() -> str:
    groups = (
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    )
    return "-".join(groups)


def status_of(invite: InviteCode, now: datetime) -> InviteStatus:
    """One status each, in this order: revoked, used up, expired, else active."""
    if invite.revoked_at is not None:
        return "revoked"
    if invite.uses >= invite.max_uses:
        return "used_up"
    if invite.expires_at is not None and invite.expires_at <= now:
        return "expired"
    return "active"


@dataclass(frozen=True)
class InviteSpec:
    max_uses: int = 1
    expires_at: datetime | None = None
    note: str = ""


@dataclass(frozen=True)
class InviteStats:
    total: int
    active: int
    used_up: int
    expired: int
    revoked: int
    total_uses: int
    remaining_uses: int


class InviteAdmin:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def page(self, *, limit: int, after: str | None) -> Page[InviteCode]:
        """Newest codes first."""
        async with self.database.read() as db:
            if after is not None:
                await anchor(InviteRepo(db).find, "after", after)
            items, more = await InviteRepo(db).all_invites(limit=limit, after=after)
        return Page(items, more, items[-1].id if more and items else None)

    async def get(self, code_id: str) -> InviteCode:
        async with self.database.read() as db:
            return await _found(InviteRepo(db), code_id)

    async def create(self, caller: Caller, spec: InviteSpec, code: str | None) -> InviteCode:
        """One code: ``code`` when given (unique, else 409), else a random one."""
        return (await self._add(caller, spec, [code] if code else [new_code()]))[0]

    async def batch(self, caller: Caller, spec: InviteSpec, count: int) -> list[InviteCode]:
        if not 1 <= count <= MAX_BATCH:
            raise InvalidRequest(f"count must be 1 to {MAX_BATCH}", details={"field": "count"})
        return await self._add(caller, spec, [new_code() for _ in range(count)])

    async def revoke(self, code_id: str) -> InviteCode:
        """Revoked codes admit nobody more; revoking again keeps the first time."""
        async with self.database.write() as db:
            invite = await _found(InviteRepo(db), code_id)
            if invite.revoked_at is None:
                invite.revoked_at = utcnow()
        return invite

    async def delete(self, code_id: str) -> None:
        if not ids.is_valid("inv", code_id):
            raise InviteNotFound(code_id)
        async with self.database.write() as db:
            removed = await InviteRepo(db).delete(code_id)
        if not removed:
            raise InviteNotFound(code_id)

    async def stats(self) -> InviteStats:
        """Every code counted once, under its status; uses summed over all codes."""
        async with self.database.read() as db:
            found = await InviteRepo(db).counts_by_status(utcnow())
        none = (0, 0, 0)
        return InviteStats(
            total=sum(codes for codes, _uses, _left in found.values()),
            active=found.get("active", none)[0],
            used_up=found.get("used_up", none)[0],
            expired=found.get("expired", none)[0],
            revoked=found.get("revoked", none)[0],
            total_uses=sum(uses for _codes, uses, _left in found.values()),
            remaining_uses=found.get("active", none)[2],
        )

    async def _add(self, caller: Caller, spec: InviteSpec, codes: list[str]) -> list[InviteCode]:
        expires_at = _future(spec.expires_at)
        made = [
            InviteCode(
                id=ids.new_id("inv"),
                code=code,
                note=spec.note,
                max_uses=spec.max_uses,
                uses=0,
                expires_at=expires_at,
                created_by=caller.user_id or None,
                created_at=utcnow(),
            )
            for code in codes
        ]
        async with self.database.write() as db:
            await InviteRepo(db).add_all(made)
        return made


async def _found(repo: InviteRepo, code_id: str) -> InviteCode:
    invite = await repo.find(code_id)
    if invite is None:
        raise InviteNotFound(code_id)
    return invite


def _future(moment: datetime | None) -> datetime | None:
    """An expiry in UTC (a time without a zone is taken as UTC); one already past is 400."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if aware <= utcnow():
        raise InvalidRequest("expires_at is in the past", details={"field": "expires_at"})
    return aware.astimezone(UTC)
