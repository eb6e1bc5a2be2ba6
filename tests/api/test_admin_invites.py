"""The admin API for invite codes, and the registrations they admit."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from roost.store.models import InviteCode
from tests.support.accounts import register
from tests.support.admin import Team, error_code


async def test_an_invite_code_admits_registrations_until_it_is_used_up(team: Team) -> None:
    invite = await team.invite(max_uses=2, note="for the Lisbon team")
    assert invite["code"] and invite["id"].startswith("inv_")
    assert (invite["status"], invite["remaining"], invite["uses"]) == ("active", 2, 0)
    assert invite["created_by"] == team.admin.id and invite["note"] == "for the Lisbon team"
    assert (await register(team.client, "nobody@example.com")).status_code == 403
    for email in ("bob@example.com", "cy@example.com"):
        admitted = await register(team.client, email, invite_code=invite["code"])
        assert admitted.status_code == 201, admitted.text
        assert admitted.json()["is_admin"] is False
    refused = await register(team.client, "dan@example.com", invite_code=invite["code"])
    assert refused.status_code == 403 and error_code(refused) == "FORBIDDEN"
    shown = (await team.call("GET", f"/api/admin/invite-codes/{invite['id']}")).json()
    assert (shown["status"], shown["uses"], shown["remaining"]) == ("used_up", 2, 0)


async def test_expired_and_revoked_codes_admit_nobody(team: Team) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    expiring = await team.invite(expires_at=soon.isoformat())
    assert expiring["expires_at"].endswith("Z")
    async with team.app.state.services.database.write() as db:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await db.execute(
            update(InviteCode).where(InviteCode.id == expiring["id"]).values(expires_at=past)
        )
    refused = await register(team.client, "bob@example.com", invite_code=expiring["code"])
    assert refused.status_code == 403
    shown = (await team.call("GET", f"/api/admin/invite-codes/{expiring['id']}")).json()
    assert shown["status"] == "expired"
    revoked = await team.invite()
    first = await team.call("POST", f"/api/admin/invite-codes/{revoked['id']}/revoke")
    assert first.status_code == 200 and first.json()["status"] == "revoked"
    second = await team.call("POST", f"/api/admin/invite-codes/{revoked['id']}/revoke")
    assert second.json()["revoked_at"] == first.json()["revoked_at"]
    refused = await register(team.client, "bob@example.com", invite_code=revoked["code"])
    assert refused.status_code == 403
    assert (await team.call("GET", "/api/admin/users/stats")).json()["total"] == 1


async def test_custom_codes_are_unique(team: Team) -> None:
    made = await team.invite(code="TEAM-2026", max_uses=5)
    assert made["code"] == "TEAM-2026" and made["remaining"] == 5
    again = await team.call("POST", "/api/admin/invite-codes", json={"code": "TEAM-2026"})
    assert again.status_code == 409 and error_code(again) == "ALREADY_EXISTS"
    plain = await team.call("POST", "/api/admin/invite-codes")
    assert plain.status_code == 201 and plain.json()["max_uses"] == 1
    assert plain.json()["code"] != made["code"]
    assert (await register(team.client, "bob@example.com", invite_code="TEAM-2026")).is_success


@pytest.mark.parametrize(
    ("url", "body", "status"),
    [
        ("", {"max_uses": 0}, 422),
        ("", {"max_uses": "1"}, 422),
        ("", {"max_uses": 100_001}, 422),
        ("", {"code": "a b c d"}, 422),
        ("", {"code": "abc"}, 422),
        ("", {"code": "x" * 65}, 422),
        ("", {"code": 12345}, 422),
        ("", {"note": "n" * 501}, 422),
        ("", {"expires_at": "tomorrow"}, 422),
        ("", {"expires_at": "2001-01-01T00:00:00Z"}, 400),
        ("/batch", {}, 422),
        ("/batch", {"count": 0}, 422),
        ("/batch", {"count": 101}, 422),
        ("/batch", {"count": "5"}, 422),
        ("/batch", {"count": 2, "expires_at": "2001-01-01T00:00:00"}, 400),
    ],
)
async def test_invite_code_bodies_are_checked(
    team: Team, url: str, body: dict[str, Any], status: int
) -> None:
    response = await team.call("POST", f"/api/admin/invite-codes{url}", json=body)
    assert response.status_code == status, response.text
    assert await team.count(InviteCode) == 0


async def test_batch_and_stats_add_up(team: Team) -> None:
    batch = await team.call(
        "POST", "/api/admin/invite-codes/batch", json={"count": 5, "max_uses": 3, "note": "wave"}
    )
    assert batch.status_code == 201, batch.text
    codes = batch.json()["invite_codes"]
    assert len(codes) == len({c["code"] for c in codes}) == 5
    assert all(c["max_uses"] == 3 and c["note"] == "wave" for c in codes)
    single = await team.invite()
    await register(team.client, "bob@example.com", invite_code=single["code"])
    await register(team.client, "cy@example.com", invite_code=codes[0]["code"])
    await team.call("POST", f"/api/admin/invite-codes/{codes[1]['id']}/revoke")
    async with team.app.state.services.database.write() as db:
        past = datetime.now(UTC) - timedelta(days=1)
        await db.execute(
            update(InviteCode).where(InviteCode.id == codes[2]["id"]).values(expires_at=past)
        )
    stats = (await team.call("GET", "/api/admin/invite-codes/stats")).json()
    assert stats == {
        "total": 6,
        "active": 3,
        "used_up": 1,
        "expired": 1,
        "revoked": 1,
        "total_uses": 2,
        "remaining_uses": 2 + 3 + 3,
    }
    assert stats["total"] == sum(stats[s] for s in ("active", "used_up", "expired", "revoked"))
    listed = (await team.call("GET", "/api/admin/invite-codes")).json()
    statuses = sorted(c["status"] for c in listed["data"])
    assert statuses == ["active"] * 3 + ["expired", "revoked", "used_up"]


async def test_invite_codes_list_newest_first_in_pages_and_delete(team: Team) -> None:
    made = [(await team.invite())["id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"after": cursor} if cursor else {})
        page = (await team.call("GET", "/api/admin/invite-codes", params=params)).json()
        assert page["invite_codes"] == page["data"]
        seen += [c["id"] for c in page["data"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == made[::-1]
    assert (await team.call("DELETE", f"/api/admin/invite-codes/{made[0]}")).status_code == 204
    gone = await team.call("GET", f"/api/admin/invite-codes/{made[0]}")
    assert gone.status_code == 404 and error_code(gone) == "INVITE_CODE_NOT_FOUND"
    assert (await team.call("DELETE", f"/api/admin/invite-codes/{made[0]}")).status_code == 404
    bad = await team.call("GET", "/api/admin/invite-codes", params={"after": "x"})
    assert bad.status_code == 400
