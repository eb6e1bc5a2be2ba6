"""The web UI's tests: Debian's Chromium driven by Playwright, and the page helpers."""

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not Path(CHROMIUM).exists():  # noqa: ASYNC240 (a stat, once)
        if os.environ.get("CI"):
            raise RuntimeError("Chromium is missing: apt-get install chromium")
        pytest.skip("Chromium is not installed")
    async with async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        await launched.close()


async def open_page(browser: Any, url: str, **options: Any) -> Any:
    page = await browser.new_page(**{"viewport": {"width": 1200, "height": 800}, **options})
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    await page.goto(url)
    await page.wait_for_selector(".sidebar .brand")
    return page


async def send(page: Any, text: str) -> None:
    await page.fill(".composer-field", text)
    await page.keyboard.press("Enter")
