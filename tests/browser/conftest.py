"""Fixtures for browser tests: JupyterLab on 127.0.0.1 and Debian's Chromium.

Chromium missing is a skip, unless ``MAILCOURSE_REQUIRE_BROWSER=1`` (set by
CI), which turns it into a failure. Every request the page makes to a host
other than 127.0.0.1 is aborted and fails the test that caused it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .chromium_browser import (
    CHROMIUM_FLAGS,
    CHROMIUM_PATH_VARIABLE,
    REQUIRE_BROWSER_VARIABLE,
    NetworkGuard,
    browser_required,
    chromium_executable,
)
from .lab_server import isolated_environment, start_lab

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
BROWSER_TIMEOUT_MS = 60_000


def _unavailable(reason: str):
    if browser_required():
        pytest.fail(f"{reason}, and {REQUIRE_BROWSER_VARIABLE}=1 requires the browser")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium; skips (or fails in CI) when it is not installed."""
    path = chromium_executable()
    if path is None:
        _unavailable(
            "Chromium is not installed: apt-get install chromium, or set "
            f"{CHROMIUM_PATH_VARIABLE} to its path"
        )
    return path


@pytest.fixture(scope="module")
def playwright_driver(chromium_path):
    """A started Playwright, with the sync API.

    Module scope, because Playwright keeps an asyncio event loop running in
    the main thread until it stops, and later tests that call
    ``asyncio.run()`` fail while it runs.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def lab_root(tmp_path_factory) -> Path:
    """A folder with a copy of the notebooks JupyterLab serves."""
    root = tmp_path_factory.mktemp("lab-root")
    for notebook in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy(notebook, root / notebook.name)
    if (NOTEBOOKS / "datos").is_dir():
        shutil.copytree(NOTEBOOKS / "datos", root / "datos")
    return root


@pytest.fixture(scope="module")
def lab(lab_root, tmp_path_factory, chromium_path):
    """A running JupyterLab serving ``lab_root``, isolated in a scratch folder."""
    server = start_lab(lab_root, tmp_path_factory.mktemp("lab-scratch"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def network_guard() -> NetworkGuard:
    return NetworkGuard()


@pytest.fixture(scope="module")
def browser_context(playwright_driver, chromium_path, network_guard, tmp_path_factory):
    """A headless Chromium context whose requests go through the network guard.

    Chromium gets its own scratch HOME, so its crash reports and caches stay
    out of the real home folder.
    """
    scratch = tmp_path_factory.mktemp("chromium-home")
    browser = playwright_driver.chromium.launch(
        executable_path=str(chromium_path),
        args=CHROMIUM_FLAGS,
        headless=True,
        env=isolated_environment(scratch),
    )
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    network_guard.install(context)
    yield context
    context.close()
    browser.close()


@pytest.fixture(autouse=True)
def _no_request_leaves_loopback(request, network_guard):
    yield
    blocked = list(network_guard.blocked)
    network_guard.blocked.clear()
    if blocked:
        pytest.fail(f"the page tried to reach hosts other than 127.0.0.1: {blocked}")


@pytest.fixture
def artifacts_dir() -> Path:
    """``test-artifacts/browser`` (gitignored), for screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
