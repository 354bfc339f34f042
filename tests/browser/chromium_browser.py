"""Debian's Chromium for Playwright, and a guard that keeps it on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM_PATH = Path("/usr/bin/chromium")
# Names another Chromium binary; when set, no other place is searched.
CHROMIUM_PATH_VARIABLE = "MAILCOURSE_CHROMIUM"
REQUIRE_BROWSER_VARIABLE = "MAILCOURSE_REQUIRE_BROWSER"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ALLOWED_HOST = "127.0.0.1"
# Addresses that never leave the browser process.
LOCAL_SCHEMES = ("data", "blob", "about")


def chromium_executable() -> Path | None:
    """Return the Chromium to drive, or None when it is not installed.

    ``MAILCOURSE_CHROMIUM`` wins when set. Otherwise Debian's
    ``/usr/bin/chromium`` is used, then any ``chromium`` on the PATH.
    """
    chosen = os.environ.get(CHROMIUM_PATH_VARIABLE)
    candidates = [Path(chosen)] if chosen else [CHROMIUM_PATH]
    if not chosen:
        found = shutil.which("chromium")
        candidates += [Path(found)] if found else []
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def browser_required() -> bool:
    """Return True when a missing browser must fail the run (CI sets this)."""
    return os.environ.get(REQUIRE_BROWSER_VARIABLE) == "1"


@dataclass
class NetworkGuard:
    """Route handler that lets requests to 127.0.0.1 through and aborts the rest.

    Every aborted address is kept in ``blocked``, so a test can fail on it.
    """

    blocked: list[str] = field(default_factory=list)

    def is_allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES:
            return True
        return parts.hostname == ALLOWED_HOST

    def __call__(self, route) -> None:
        url = route.request.url
        if self.is_allowed(url):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    def is_blocked_websocket(self, url: str) -> bool:
        return not self.is_allowed(url)

    def close_websocket(self, websocket_route) -> None:
        # A WebSocket route that never calls connect_to_server() reaches no
        # server. Closing it makes the connection fail in the page.
        self.blocked.append(websocket_route.url)
        websocket_route.close(code=1008, reason="blocked by the test")

    def install(self, context) -> None:
        """Route every request and WebSocket of a browser context through the guard."""
        context.route("**/*", self)
        context.route_web_socket(self.is_blocked_websocket, self.close_websocket)
