"""Fixtures for the UI tests: Debian's Chromium driven by Playwright, and the
processes it talks to. Screenshots and logs go to test-artifacts/ui/<test>/."""

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ui_stack import ARTIFACTS_DIR, missing

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1400, "height": 1000}
# Playwright's wait for one element or condition, in milliseconds.
DEFAULT_TIMEOUT_MS = 20_000


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def call_failed(request) -> bool:
    report = getattr(request.node, "report_call", None)
    return report is None or report.failed


@pytest.fixture
def artifacts(request) -> Path:
    """A fresh directory for this test's screenshots and logs."""
    directory = ARTIFACTS_DIR / request.node.name.replace("/", "_")
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


@dataclass
class Browser:
    page: object
    artifacts: Path
    # Uncaught exceptions in the page; a test ends by asserting there were none.
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        path = self.artifacts / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def browser(request, artifacts) -> Iterator[Browser]:
    """A page in a fresh headless Chromium profile, in the UTC time zone."""
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is missing: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory(prefix="dale-chromium-") as profile,
        sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
            timezone_id="UTC",
            locale="en-US",
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        page = context.pages[0] if context.pages else context.new_page()
        browser = Browser(page=page, artifacts=artifacts)
        page.on("pageerror", lambda error: browser.page_errors.append(str(error)))
        page.on(
            "console",
            lambda message: (
                message.type == "error" and browser.console_errors.append(message.text)
            ),
        )
        try:
            yield browser
        finally:
            if call_failed(request):
                browser.screenshot("failure")
            context.close()
