"""The network guard of the browser tests, checked without a browser.

The browser tests trust the guard to abort every request that would leave
127.0.0.1. These tests show that it does with stand-ins for Playwright's
route objects, so that no request is ever aimed at another host.
"""

from __future__ import annotations

import pytest

from .chromium_browser import NetworkGuard


class RecordedRoute:
    """A stand-in for ``playwright.sync_api.Route``: records what was done."""

    class Request:
        def __init__(self, url: str) -> None:
            self.url = url

    def __init__(self, url: str) -> None:
        self.request = self.Request(url)
        self.outcome = None

    def continue_(self) -> None:
        self.outcome = "continued"

    def abort(self, error_code: str) -> None:
        self.outcome = f"aborted: {error_code}"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8888/lab/tree/09-formularios.ipynb?token=x",
        "ws://127.0.0.1:8888/api/kernels/abc/channels",
        "data:image/png;base64,iVBORw0KGgo=",
        "blob:http://127.0.0.1:8888/0a1b",
        "about:blank",
    ],
)
def test_guard_lets_loopback_through(url):
    guard = NetworkGuard()
    route = RecordedRoute(url)
    guard(route)
    assert route.outcome == "continued"
    assert guard.blocked == []


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js",
        "https://pypi.org/pypi/jupyterlab/json",
        "http://localhost:8888/lab",
        "http://127.0.0.2:8888/lab",
        "http://127.0.0.1.example.com/",
        "wss://example.com/socket",
    ],
)
def test_guard_aborts_other_hosts(url):
    guard = NetworkGuard()
    route = RecordedRoute(url)
    guard(route)
    assert route.outcome == "aborted: blockedbyclient"
    assert guard.blocked == [url]


def test_guard_matches_websocket_hosts():
    guard = NetworkGuard()
    assert guard.is_blocked_websocket("wss://example.com/socket")
    assert not guard.is_blocked_websocket("ws://127.0.0.1:8888/api/events/subscribe")
