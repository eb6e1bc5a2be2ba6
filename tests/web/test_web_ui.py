"""The web UI in a real browser (Debian's Chromium, driven by Playwright) over a real
server: chat and its stream, stop, a reload mid-answer, an approval, a task and its diff,
signing in, a second tab, a phone's width. The screenshots in docs/screenshots are taken
here, so they show the UI as it is."""

from pathlib import Path
from typing import Any

import httpx

from roost.engine.tools.registry import Tool, ToolContext
from roost.testing import FakeLLM
from tests.support.accounts import PASSWORD, register
from tests.support.apps import ONE_DATABASE
from tests.support.live import serving
from tests.support.projects import new_project
from tests.web.conftest import SCREENSHOTS, open_page, send

pytestmark = ONE_DATABASE


async def answer_text(page: Any) -> str:
    text: str = await page.locator(".msg-assistant .md").last.inner_text()
    return text


async def stored_reply(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url) as client:
        sessions = (await client.get("/api/sessions")).json()["data"]
        messages = (await client.get(f"/api/sessions/{sessions[0]['id']}/messages")).json()
    reply: dict[str, Any] = messages["data"][-1]
    return reply


async def test_a_chat_streams_its_answer_as_markdown(
    browser: Any, live_server: str, fake_llm: FakeLLM
) -> None:
    words = " ".join(f"word{i}" for i in range(40))
    fake_llm.add_replies(
        {
            "text": f"Here is **bold** and code:\n\n```python\nprint('hi')\n```\n\n{words}",
            "token_delay_ms": 25,
        },
        {"text": "Greeting", "match": "title"},
    )
    page = await open_page(browser, live_server)
    await send(page, "Show me something")
    await page.wait_for_selector(".msg-user .bubble:has-text('Show me something')")
    # Tokens arrive while the turn runs: the answer grows before it is done.
    await page.wait_for_selector(".msg-assistant .md:has-text('bold')")
    partial = await answer_text(page)
    assert await page.locator(".stop").is_visible()
    await page.wait_for_selector(".msg-assistant[data-status='completed']")
    final = await answer_text(page)
    assert len(final) > len(partial) and final.endswith("word39")
    assert await page.locator(".msg-assistant .md strong").inner_text() == "bold"
    assert await page.locator(".msg-assistant pre.code code.hljs").count() == 1
    assert await page.locator(".msg-assistant pre.code .copy").count() == 1
    assert await page.locator(".send").is_visible()
    await page.wait_for_selector(".session-link:has-text('Greeting')")
    await page.screenshot(path=str(SCREENSHOTS / "chat.png"))
    assert page.errors == []


async def test_stop_cancels_the_turn(browser: Any, live_server: str, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"tokens": 400, "token_delay_ms": 30})
    page = await open_page(browser, live_server)
    await send(page, "Talk for a long time")
    await page.wait_for_selector(".msg-assistant .md:not(:empty)")
    await page.click(".stop")
    await page.wait_for_selector(".msg-assistant[data-status='cancelled']")
    assert await page.locator(".note:has-text('Stopped.')").count() == 1
    async with httpx.AsyncClient(base_url=live_server) as client:
        sid = (await client.get("/api/sessions")).json()["data"][0]["id"]
        turns = (await client.get(f"/api/sessions/{sid}/turns")).json()["data"]
    assert turns[0]["status"] == "cancelled"


async def test_a_reload_mid_answer_rejoins_the_turn_without_loss_or_doubles(
    browser: Any, live_server: str, fake_llm: FakeLLM
) -> None:
    words = " ".join(f"w{i}" for i in range(60))
    fake_llm.add_replies({"text": words, "token_delay_ms": 40})
    page = await open_page(browser, live_server)
    await send(page, "Count slowly")
    await page.wait_for_selector(".msg-assistant .md:has-text('w5')")
    await page.reload()
    await page.wait_for_selector(".msg-assistant[data-status='completed']", timeout=20000)
    shown = await answer_text(page)
    assert shown == words == (await stored_reply(live_server))["content"]
    assert await page.locator(".msg-user").count() == 1


async def test_a_tool_call_is_approved_inline(
    app: Any, browser: Any, live_server: str, fake_llm: FakeLLM
) -> None:
    ran: list[dict[str, Any]] = []

    async def deploy(args: dict[str, Any], _context: ToolContext) -> dict[str, str]:
        ran.append(args)
        return {"deployed": args["target"]}

    schema = {"type": "object", "properties": {"target": {"type": "string"}}}
    tool = Tool("deploy", "Deploys", schema, deploy, source="test", requires_approval=True)
    app.state.services.tools.register(tool)
    fake_llm.add_replies(
        {"tool_calls": [{"name": "deploy", "arguments": {"target": "staging"}}]},
        {"text": "Deployed to staging."},
    )
    page = await open_page(browser, live_server)
    await send(page, "Deploy it")
    card = page.locator(".input-card")
    await card.wait_for()
    assert "staging" in await card.inner_text()
    assert ran == []  # nothing runs before the user allows it
    await page.screenshot(path=str(SCREENSHOTS / "approval.png"))
    await card.get_by_role("button", name="Allow", exact=True).click()
    await page.wait_for_selector(".msg-assistant[data-status='completed']")
    assert ran == [{"target": "staging"}]
    assert "Deployed to staging." in await answer_text(page)
    assert await page.locator(".tool.ok .tool-name:has-text('deploy')").count() == 1
    assert "Allowed" in await card.inner_text()


async def test_a_task_runs_and_its_diff_downloads(
    browser: Any, live_server: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=live_server) as client:
        project = await new_project(client, "Greeter")
    (Path(project["path"]) / "hello.txt").write_text("hello\n")
    plan = [{"id": "s1", "description": "Say more", "status": "completed"}]
    fake_llm.add_replies(
        {"tool_calls": [{"id": "p", "name": "update_plan", "arguments": {"steps": plan}}]},
        {
            "tool_calls": [
                {
                    "id": "w",
                    "name": "write_file",
                    "arguments": {"path": "hello.txt", "content": "hello world\n"},
                }
            ]
        },
        {
            "tool_calls": [
                {
                    "id": "f",
                    "name": "finish_task",
                    "arguments": {"success": True, "summary": "Greeted"},
                }
            ]
        },
    )
    page = await open_page(browser, live_server + "/#/tasks")
    await page.wait_for_selector("#task-project option:has-text('Greeter')", state="attached")
    await page.fill("#task-description", "Greet the world")
    await page.select_option("#task-project", label="Greeter")
    await page.click("text=Start task")
    await page.wait_for_selector(".task-status.status-completed", timeout=20000)
    await page.wait_for_selector(".plan .step-completed:has-text('Say more')")
    await page.wait_for_selector(".diff .diff-add:has-text('+hello world')")
    await page.screenshot(path=str(SCREENSHOTS / "task.png"))
    async with page.expect_download() as waiting:
        await page.click(".artifacts a:has-text('diff.patch')")
    download = await waiting.value
    saved = tmp_path / "diff.patch"
    await download.save_as(saved)
    assert "+hello world" in saved.read_text() and "-hello" in saved.read_text()


async def test_a_second_tab_sees_new_chats(
    browser: Any, live_server: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "Hi."}, {"text": "Shared plans", "match": "title"})
    first = await open_page(browser, live_server)
    second = await open_page(browser, live_server)
    await send(first, "Plans?")
    await second.wait_for_selector(".session-link:has-text('Shared plans')", timeout=15000)
    await second.click(".session-link:has-text('Shared plans')")
    await second.wait_for_selector(".msg-assistant .md:has-text('Hi.')")


async def test_signing_in_in_required_mode(
    browser: Any, open_app: tuple[Any, httpx.AsyncClient]
) -> None:
    app, client = open_app
    await register(client, "ada@example.com")
    async with serving(app) as url:
        page = await browser.new_page()
        await page.goto(url)
        await page.fill("#email", "ada@example.com")
        await page.fill("#password", "not the password")
        await page.click("button[type=submit]")
        await page.wait_for_selector(".form-error:has-text('Invalid email or password')")
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_selector(".composer-field")
        await page.wait_for_selector("a.nav-link:has-text('Admin')")  # the first user is admin


async def test_a_phones_width_has_one_column_and_a_sliding_sidebar(
    browser: Any, live_server: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "Short answer."})
    page = await open_page(
        browser, live_server, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    await send(page, "Hello from a phone")
    await page.wait_for_selector(".msg-assistant[data-status='completed']")
    assert not await page.locator(".sidebar").is_visible() or await page.evaluate(
        "document.querySelector('.sidebar').getBoundingClientRect().right <= 0"
    )
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await page.screenshot(path=str(SCREENSHOTS / "phone.png"))
    await page.click(".menu-toggle")
    await page.wait_for_timeout(400)  # the slide
    assert (await page.locator(".sidebar").bounding_box())["x"] >= 0
    assert await page.locator(".session-link").count() == 1


async def test_keyboard_and_dark_theme(browser: Any, live_server: str, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "Dark and readable."})
    page = await open_page(browser, live_server, color_scheme="dark")
    # The composer has the focus on opening; the first stop of the tab order is the link
    # that skips to the content.
    await page.wait_for_selector(".composer-field:focus")
    first = "document.querySelector('a[href], button, input, textarea, select')"
    assert await page.evaluate(f"{first}.classList.contains('skip-link')")
    await page.keyboard.type("Hi")
    await page.keyboard.press("Enter")
    await page.wait_for_selector(".msg-assistant[data-status='completed']")
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(22, 24, 28)"
    labels = await page.evaluate(
        "[...document.querySelectorAll('textarea, select, input:not([type=file])')]"
        ".filter(e => !e.labels?.length && !e.getAttribute('aria-label')).length"
    )
    assert labels == 0  # every field has a name a screen reader can say
    await page.screenshot(path=str(SCREENSHOTS / "dark.png"))
