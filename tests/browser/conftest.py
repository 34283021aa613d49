"""Real-browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Every test in this folder carries the ``browser`` marker (``pytest -m "not browser"`` skips
them). A failing test leaves a screenshot of its page in ``test-artifacts/``.
"""

import os
import re
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the main thread; the ORM calls the tests make
# there (building the world, reading records back) would otherwise trip Django's guard.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parent.parent / "test-artifacts"
PASSWORD = "pw-for-tests-only"  # the one tests/factories.UserFactory gives everyone
CHROMIUM = os.environ.get("TADAMUN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # The page fixture reads this after the test to decide on a screenshot.
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser() -> Browser:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(request, browser) -> Page:
    """A page in a fresh context (no cookies), wide enough for the expanded navbar."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    # Anything the page tried to load and could not is a failure of the page.
    failed = []
    page.on(
        "response",
        lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 500 else None,
    )
    page.on(
        "requestfailed",
        # A request cut short by the page moving on (a navigation, a newer search) is normal.
        lambda r: (
            None if "ERR_ABORTED" in (r.failure or "") else failed.append(f"{r.failure} {r.url}")
        ),
    )
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        try:
            page.screenshot(path=str(ARTIFACTS / f"failed-{name}.png"), full_page=True)
        except Exception as error:  # a crashed page must not hide the test's own failure
            print(f"screenshot failed: {error}")
    context.close()
    assert not failed, f"requests that failed or answered 5xx: {failed}"


@pytest.fixture(scope="session", autouse=True)
def _static_root_exists():
    """WhiteNoise warns (an error here) when STATIC_ROOT is missing, as it is before
    collectstatic; the live server's static handler serves the app folders anyway."""
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def live_world(transactional_db, live_server, world):
    """The personas of tests/conftest.py, committed so the live server's thread sees them.

    ``transactional_db`` is requested before ``world`` (which asks for ``db``): the data is
    written for real and the tables are emptied after the test instead of rolled back.
    """
    return world


@pytest.fixture
def sign_in(page, live_server):
    """``sign_in(user)``: sign in through the real sign-in form; the page lands on home."""

    def do(user, password: str = PASSWORD) -> Page:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        return page

    return do
