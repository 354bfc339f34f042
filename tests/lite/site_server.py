"""A static file server on 127.0.0.1 for the built JupyterLite site."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# Types Pyodide and JupyterLite need that older mimetypes tables may lack:
# browsers refuse to stream-compile wasm or import a module served otherwise.
SITE_CONTENT_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".json": "application/json",
    ".whl": "application/zip",
}


class SiteRequestHandler(SimpleHTTPRequestHandler):
    """Serve files quietly, with the content types the site needs."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **SITE_CONTENT_TYPES}

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_site(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free port of 127.0.0.1 and yield its base URL."""
    handler = functools.partial(SiteRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
