"""Sessions grouped by day of last activity, in the client's time zone."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import update

from roost.services.sessions import group_by_day
from roost.store.models import Session


def at(moment: datetime) -> Session:
    return Session(id=f"ses_{moment.isoformat()}", last_activity_at=moment)


def test_group_by_day_uses_local_midnights() -> None:
    paris = ZoneInfo("Europe/Paris")
    now = datetime(2026, 11, 25, 0, 30, tzinfo=paris)  # 23:30 UTC the day before
    sessions = [
        at(datetime(2026, 11, 24, 23, 10, tzinfo=UTC)),  # 00:10 in Paris: today
        at(datetime(2026, 11, 24, 22, 50, tzinfo=UTC)),  # 23:50 in Paris: yesterday
        at(datetime(2026, 11, 20, 12, 0, tzinfo=UTC)),
        at(datetime(2026, 11, 1, 12, 0, tzinfo=UTC)),
        at(datetime(2025, 1, 1, tzinfo=UTC)),
    ]
    groups = group_by_day(sessions, now)
    assert [(g.key, len(g.sessions)) for g in groups] == [
        ("today", 1),
        ("yesterday", 1),
        ("last_7_days", 1),
        ("last_30_days", 1),
        ("older", 1),
    ]


def test_empty_groups_are_left_out() -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert [g.key for g in group_by_day([at(now)], now)] == ["today"]


async def test_grouped_route_groups_by_last_activity(client: httpx.AsyncClient, app: Any) -> None:
    fresh = (await client.post("/api/sessions", json={"title": "fresh"})).json()
    old = (await client.post("/api/sessions", json={"title": "old"})).json()
    async with app.state.services.database.write() as db:
        await db.execute(
            update(Session)
            .where(Session.id == old["id"])
            .values(last_activity_at=datetime.now(UTC) - timedelta(days=90))
        )
    for path in ("/api/sessions/grouped", "/api/chat-history/grouped"):
        body = (await client.get(path, params={"tz": "America/New_York"})).json()
        assert [g["key"] for g in body["groups"]][-1] == "older"
        assert body["groups"][-1]["sessions"][0]["id"] == old["id"]
        assert body["groups"][0]["sessions"][0]["id"] == fresh["id"]
        assert body["has_more"] is False


async def test_unknown_time_zone_is_422(client: httpx.AsyncClient) -> None:
    for tz in ("Mars/Olympus", "../../etc/passwd", ""):
        response = await client.get("/api/sessions/grouped", params={"tz": tz})
        assert response.status_code == 422, tz
        assert response.json()["error"]["details"]["fields"][0]["field"] == "tz"
