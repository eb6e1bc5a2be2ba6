"""The login cookies live exactly as long as the tokens they hold."""

from http.cookies import SimpleCookie

import pytest

from roost.config import Settings
from tests.support.accounts import PASSWORD, register
from tests.support.apps import running


def cookie_ages(set_cookies: list[str]) -> dict[str, int]:
    ages = {}
    for header in set_cookies:
        for name, morsel in SimpleCookie(header).items():
            ages[name] = int(morsel["max-age"])
    return ages


@pytest.mark.parametrize("days", [30, 7])
async def test_the_refresh_cookie_lives_as_long_as_the_refresh_token(
    settings: Settings, days: int
) -> None:
    async with running(settings, auth="required", refresh_token_days=days) as (_, client):
        await register(client, "ada@example.com")
        login = await client.post(
            "/api/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        ages = cookie_ages(login.headers.get_list("set-cookie"))
        assert ages["roost_refresh"] == days * 24 * 3600
        assert ages["roost_access"] == login.json()["expires_in"]
        refreshed = await client.post(
            "/api/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
        )
        assert refreshed.status_code == 200, refreshed.text
        assert cookie_ages(refreshed.headers.get_list("set-cookie"))["roost_refresh"] == (
            days * 24 * 3600
        )
