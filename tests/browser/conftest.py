"""Browser tests: Debian's Chromium, headless, driven by Playwright (its wheel carries the driver;
the browser is the system's ``/usr/bin/chromium``, never a downloaded build).

The app runs in a background thread (werkzeug) on a free loopback port, on the same test
containers as the other tests (embedded backends, and the real ones when their URLs are set).
Each user gets a browser context of their own (own cookies). On failure every open page is
saved as a screenshot under ``var/browser-screenshots/`` (git-ignored) and the paths are printed.
Without Chromium or Playwright the tests skip, except on CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "browser-screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True,
         "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "Chrome/126.0 Mobile Safari/537.36"}
TIMEOUT_MS = 30_000  # the machine is shared and slow; signing and validation take seconds


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    if not Path(CHROMIUM).is_file():
        return "Chromium is not installed (apt-get install chromium; scripts/sysdeps.sh installs it)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module. Not per session: Playwright's sync API keeps an event loop
    running in the main thread while it is open, and code that calls asyncio.run() (pyHanko's
    signing, in later test modules) cannot run beside it."""
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run on CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        # launch() gives every run a fresh temporary profile (user-data dir)
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def live_server(app: Any, demo: Any, container: Any) -> Iterator[str]:
    from werkzeug.serving import make_server

    from docsvc.services.demo import enrol_demo_signers
    enrol_demo_signers(container.db, container.signatures, ("chutich",))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="docsvc-browser-tests", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def login(browser: Any, live_server: str, demo: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """``login('vanthu')`` → a Playwright page logged in as that user, in a context of its own."""
    opened: dict[str, Any] = {}
    request.node._browser_pages = opened  # for the screenshot hook

    def open_as(username: str, *, phone: bool = False) -> Any:
        """``phone``: Chromium's mobile emulation of a 390 px wide phone (touch, mobile viewport)."""
        from playwright.sync_api import expect
        # A tall desktop window: a click that must first scroll the page can be routed, on a loaded machine,
        # by the compositor's hit-test data of before the scroll, into the document's PDF preview (an
        # out-of-process frame), and is lost: no event reaches the page (seen under load in CI).
        screen = PHONE if phone else {"viewport": {"width": 1280, "height": 2400}}
        context = browser.new_context(base_url=live_server, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                      **screen)
        context.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)  # assertions too (their own default is 5 s: too short here)
        page = context.new_page()
        opened[username + ("-phone" if phone else "")] = page
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", demo.password)
        page.click("form button[type=submit]")
        expect(page).to_have_url(re.compile(r"/work$"))
        return page

    yield open_as
    for page in opened.values():
        page.context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    pages = getattr(item, "_browser_pages", None)
    if report.when != "call" or not report.failed or not pages:
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("::")[-1])
    lines = []
    for username, page in pages.items():
        path = SCREENSHOTS / f"{stem}-{username}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
            lines.append(f"{username}: {path} (at {page.url})")
        except Exception as exc:  # noqa: BLE001 - a screenshot must not hide the failure
            lines.append(f"{username}: no screenshot ({exc})")
    report.sections.append(("browser screenshots", "\n".join(lines)))
