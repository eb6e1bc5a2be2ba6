"""The web UI's other paths in a real browser: regenerate, edit, fork, search, folders,
and the pages for projects, agents, evaluations, memories, settings and admin."""

from pathlib import Path
from typing import Any

import httpx

from roost.testing import FakeLLM
from tests.support.accounts import PASSWORD, register
from tests.support.apps import ONE_DATABASE
from tests.support.live import serving
from tests.support.projects import new_project
from tests.web.conftest import SCREENSHOTS, open_page, send

pytestmark = ONE_DATABASE


async def answers(page: Any) -> list[str]:
    texts: list[str] = await page.locator(".msg-assistant .md").all_inner_texts()
    return texts


async def test_regenerate_edit_and_fork(browser: Any, live_server: str, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies(
        {"text": "Questions", "match": "title"},
        {"text": "First answer."},
        {"text": "Second answer."},
        {"text": "Third."},
    )
    page = await open_page(browser, live_server)
    await send(page, "Question one")
    await page.wait_for_selector(".msg-assistant[data-status='completed']")
    await page.click(".msg-actions button:has-text('Regenerate')")
    await page.wait_for_selector(".msg-assistant .md:has-text('Second answer.')")
    await page.wait_for_selector(".msg-assistant[data-status='completed']")
    assert await answers(page) == ["Second answer."]
    await page.click(".msg-user button:has-text('Edit')")
    await page.fill(".edit-field", "Question two")
    await page.click("text=Save and answer again")
    await page.wait_for_selector(".msg-assistant .md:has-text('Third.')")
    assert await page.locator(".msg-user .bubble").all_inner_texts() == ["Question two"]
    assert await answers(page) == ["Third."]
    here = page.url
    await page.click(".chat-header button:has-text('Fork')")
    await page.wait_for_selector(".chat-title:has-text('Fork of')")
    assert page.url != here
    assert await page.locator(".msg-user .bubble").all_inner_texts() == ["Question two"]
    assert page.errors == []


async def test_search_pins_and_folders(browser: Any, live_server: str) -> None:
    async with httpx.AsyncClient(base_url=live_server) as client:
        for title, text in (("Trip", "the lighthouse at dawn"), ("Work", "quarterly numbers")):
            sid = (await client.post("/api/sessions", json={"title": title})).json()["id"]
            await client.put(
                f"/api/sessions/{sid}",
                json={"messages": [{"role": "user", "content": text}]},
            )
    page = await open_page(browser, live_server)
    await page.wait_for_selector(".session-link:has-text('Trip')")
    await page.fill(".search", "lighthouse")
    result = page.locator(".search-result")
    await result.first.wait_for()
    assert await result.count() == 1
    assert await result.locator("mark").inner_text() == "lighthouse"
    await page.fill(".search", "")
    item = page.locator(".session-item:has-text('Work')")
    await item.locator("summary").click()
    await item.locator("button:has-text('Pin')").click()
    await page.wait_for_selector("h2.group:has-text('Pinned') + ul .session-link:has-text('Work')")
    page.once("dialog", lambda dialog: dialog.accept("Receipts"))
    item = page.locator(".session-item:has-text('Trip')")
    await item.locator("summary").click()
    await item.locator("button:has-text('Move to folder')").click()
    await page.click("button.folder:has-text('Receipts')")
    await page.wait_for_selector(".back:has-text('Folder: Receipts')")
    assert await page.locator(".session-link").all_inner_texts() == ["Trip"]


async def test_the_pages_show_what_the_api_holds(
    browser: Any, live_server: str, fake_llm: FakeLLM
) -> None:
    async with httpx.AsyncClient(base_url=live_server) as client:
        project = await new_project(client, "Atlas")
        (Path(project["path"]) / "notes.md").write_text("# Atlas notes\n")
        await client.post("/api/agents", json={"name": "critic", "preamble": "Be critical."})
        await client.post("/api/memories", json={"content": "Prefers metric units"})
        cases = [{"id": "c1", "input": "One?", "assertions": [{"type": "equals", "value": "1"}]}]
        testset = (
            await client.post("/api/testsets", json={"name": "Maths", "cases": cases})
        ).json()
        fake_llm.add_replies({"text": "1", "match": "alpha"}, {"text": "2", "match": "beta"})
        configurations = [
            {"name": "alpha", "preamble": "alpha"},
            {"name": "beta", "preamble": "beta"},
        ]
        run = await client.post(
            f"/api/testsets/{testset['id']}/runs", json={"configurations": configurations}
        )
        eval_id = run.json()["id"]
        await client.get(f"/api/testsets/{testset['id']}/runs/{eval_id}/events")  # to its end
    page = await open_page(browser, live_server + "/#/projects")
    await page.click("a:has-text('Atlas')")
    await page.click("button:has-text('notes.md')")
    await page.wait_for_selector(".file-view:has-text('# Atlas notes')")
    await page.goto(live_server + "/#/agents")
    await page.wait_for_selector("td:has-text('critic')")
    await page.goto(live_server + "/#/memories")
    await page.wait_for_selector("td:has-text('Prefers metric units')")
    await page.goto(live_server + f"/#/evals/{testset['id']}/{eval_id}")
    table = page.locator("table:has(caption:has-text('Side by side'))")
    await table.wait_for()
    assert await table.locator("th").all_inner_texts() == ["Case", "alpha", "beta"]
    assert await table.locator("tbody td").all_inner_texts() == ["One?", "pass", "fail"]
    disagreement = page.locator("table:has(caption:has-text('Where they disagree')) tbody td")
    assert await disagreement.all_inner_texts() == ["c1", "alpha", "beta"]
    await page.screenshot(path=str(SCREENSHOTS / "evaluation.png"))
    await page.goto(live_server + "/#/settings")
    await page.fill("#set-model", "fake-large")
    await page.click("button:has-text('Save')")
    await page.wait_for_selector(".toast:has-text('Saved')")
    await page.fill("#field-job-name", "morning")
    await page.fill("#field-job-cron", "0 9 * * 1-5")
    await page.fill("#field-job-prompt", "What is new?")
    await page.click("button:has-text('Add schedule')")
    await page.wait_for_selector("td:has-text('morning')")
    assert await page.locator("td:has-text('0 9 * * 1-5')").count() == 1
    await page.wait_for_selector("table:has(caption:has-text('Providers')) td:has-text('yes')")
    async with httpx.AsyncClient(base_url=live_server) as client:
        assert (await client.get("/api/settings")).json()["model"] == "fake-large"
        job = (await client.get("/api/scheduler/jobs/morning")).json()
    assert job["schedule"] == "0 9 * * 1-5" and job["prompt"] == "What is new?"
    assert page.errors == []


async def test_the_admin_page_in_required_mode(
    browser: Any, open_app: tuple[Any, httpx.AsyncClient]
) -> None:
    app, client = open_app
    assert (await register(client, "root@example.com")).status_code == 201
    async with serving(app) as url:
        page = await browser.new_page()
        await page.goto(url)
        await page.fill("#email", "root@example.com")
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await page.click("a.nav-link:has-text('Admin')")
        await page.wait_for_selector("td:has-text('root@example.com')")
        await page.fill("#field-note", "For Ada")
        await page.click("button:has-text('Create invite code')")
        await page.wait_for_selector("td:has-text('For Ada')")


async def test_project_files_are_referred_to_and_uploaded(
    browser: Any, live_server: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=live_server) as client:
        project = await new_project(client, "Atlas")
    root = Path(project["path"])
    (root / "notes.md").write_text("# Notes\n")
    page = await open_page(browser, live_server)
    await page.wait_for_selector(
        "select[aria-label=Project] option:has-text('Atlas')", state="attached"
    )
    await page.select_option("select[aria-label=Project]", label="Atlas")
    await page.click("button:has-text('@ File')")
    await page.click(".file-picker button:has-text('notes.md')")
    assert await page.input_value(".composer-field") == "@notes.md "
    report = tmp_path / "report.csv"
    report.write_text("a,b\n1,2\n")
    await page.set_input_files("#attach", str(report))
    for _ in range(50):
        if "@report.csv" in await page.input_value(".composer-field"):
            break
        await page.wait_for_timeout(100)
    assert await page.input_value(".composer-field") == "@notes.md @report.csv "
    assert (root / "report.csv").read_text() == "a,b\n1,2\n"
    fake_llm.add_replies({"text": "Read them."})
    await page.keyboard.press("Enter")
    await page.wait_for_selector(".msg-assistant[data-status='completed']")
    async with httpx.AsyncClient(base_url=live_server) as client:
        sessions = (await client.get("/api/sessions")).json()["data"]
    assert sessions[0]["project_id"] == project["id"]


async def test_agents_are_edited_and_an_evaluation_is_started_against_them(
    browser: Any, live_server: str, fake_llm: FakeLLM
) -> None:
    async with httpx.AsyncClient(base_url=live_server) as client:
        await client.post("/api/agents", json={"name": "terse", "preamble": "alpha"})
        cases = [{"id": "c1", "input": "One?", "assertions": [{"type": "equals", "value": "1"}]}]
        made = await client.post("/api/testsets", json={"name": "Sums", "cases": cases})
    fake_llm.add_replies({"text": "1", "match": "Say digits."})
    page = await open_page(browser, live_server + "/#/agents")
    row = page.locator("tr:has(td:text-is('terse'))")
    await row.locator("button:has-text('Edit')").click()
    await page.fill("#edit-preamble", "Say digits.")
    await page.click("form[aria-label='Edit terse'] button:has-text('Save')")
    await page.wait_for_selector("tr:has(td:text-is('terse')) td:text-is('2')")  # version 2
    await page.goto(live_server + f"/#/evals/{made.json()['id']}")
    await page.check("label.choice:has-text('terse') input")
    await page.click("button:has-text('Start run')")
    table = page.locator("table:has(caption:has-text('Side by side'))")
    await page.wait_for_selector("p:has-text('Status: completed')", timeout=20000)
    assert await table.locator("th").all_inner_texts() == ["Case", "terse"]
    assert await table.locator("tbody td").all_inner_texts() == ["One?", "pass"]
    await page.goto(live_server + "/#/agents")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.locator("tr:has(td:text-is('terse')) button:has-text('Delete')").click()
    await page.wait_for_selector("td:text-is('terse')", state="detached")
    assert page.errors == []
