"""More of a conversation in the browser: thinking folded, a question answered with one
of its options, an answer continued, an agent picked, an image attached, and an account
made from the sign-in page."""

import base64
from pathlib import Path
from typing import Any

import httpx

from roost.testing import FakeLLM
from tests.support.apps import ONE_DATABASE
from tests.support.live import serving
from tests.support.turns import ask
from tests.web.conftest import open_page, send

pytestmark = ONE_DATABASE
# A PNG of one pixel.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


async def test_a_question_is_answered_and_the_answer_continued(
    browser: Any, live_server: str, fake_llm: FakeLLM
) -> None:
    async with httpx.AsyncClient(base_url=live_server) as client:
        await client.post("/api/agents", json={"name": "painter", "preamble": "Paint boldly."})
    fake_llm.add_replies(
        {"text": "Colours", "match": "title"},
        {"thinking": "Let me ask first.", **ask("Which colour?", ["red", "blue"])},
        {"text": "Blue it is, and", "finish": "length"},
        {"text": " the door too."},
    )
    page = await open_page(browser, live_server)
    await page.wait_for_selector("select[aria-label=Agent] option[value=painter]", state="attached")
    await page.select_option("select[aria-label=Agent]", "painter")
    await send(page, "Paint it")
    card = page.locator(".input-card")
    await card.get_by_text("Which colour?").wait_for()
    await card.get_by_role("button", name="blue").click()
    await page.wait_for_selector(".msg-assistant[data-status='completed']")
    thinking = page.locator("details.thinking")
    assert await thinking.count() == 1 and await thinking.get_attribute("open") is None
    assert "Let me ask first." in await thinking.locator(".thinking-text").text_content()
    assert "Answered: blue" in await card.inner_text()
    assert "Blue it is, and" in await page.locator(".msg-assistant .md").last.inner_text()
    prompts = [r.body["messages"][0]["content"] for r in fake_llm.stats().last_requests]
    assert any("Paint boldly." in prompt for prompt in prompts)  # the agent picked answers
    await page.click(".msg-actions button:has-text('Continue')")
    await page.wait_for_selector(".msg-assistant .md:has-text('the door too.')")
    await page.wait_for_selector(".msg-assistant[data-status='completed']")
    assert await page.locator(".msg-assistant").count() == 1  # one message, continued
    assert (
        "Blue it is, and the door too."
        in await page.locator(".msg-assistant .md").last.inner_text()
    )
    async with httpx.AsyncClient(base_url=live_server) as client:
        sid = (await client.get("/api/sessions")).json()["data"][0]["id"]
        turns = (await client.get(f"/api/sessions/{sid}/turns")).json()["data"]
        last = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"][-1]
    assert {turn["agent"] for turn in turns} == {"painter"}
    assert last["content"] == "Blue it is, and the door too."


async def test_an_image_is_attached_to_the_message(
    browser: Any, live_server: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.add_replies({"text": "A single pixel."})
    picture = tmp_path / "pixel.png"
    picture.write_bytes(PIXEL)
    page = await open_page(browser, live_server)
    await page.set_input_files("#attach", str(picture))
    await page.wait_for_selector(".chip:has-text('pixel.png')")
    await send(page, "What is this?")
    await page.wait_for_selector(".msg-assistant[data-status='completed']")
    assert await page.locator(".msg-user img.attachment").count() == 1
    asked = [
        message["content"]
        for request in fake_llm.stats().last_requests
        for message in request.body["messages"]
        if isinstance(message["content"], list)
    ]
    images = [part for parts in asked for part in parts if part.get("type") == "image_url"]
    assert images and images[0]["image_url"]["url"].endswith(base64.b64encode(PIXEL).decode())


async def test_an_account_is_made_from_the_sign_in_page(
    browser: Any, open_app: tuple[Any, httpx.AsyncClient]
) -> None:
    app, _client = open_app
    async with serving(app) as url:
        page = await browser.new_page()
        await page.goto(url)
        await page.click("button:has-text('Create an account')")
        await page.fill("#name", "Ada")
        await page.fill("#email", "ada@example.com")
        await page.fill("#password", "a long and unusual passphrase")
        await page.click("button:has-text('Create account')")
        await page.wait_for_selector(".composer-field")
        await page.wait_for_selector("button:has-text('Sign out')")
        await page.click("button:has-text('Sign out')")
        await page.wait_for_selector("#email")
