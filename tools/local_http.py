"""Serving a local stand-in (the HTTP ERP, the payment gateway) on localhost in a thread."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler], port: int = 0) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 (``port=0``: a free one); yields the base URL.

    The server polls for shutdown every 50 ms (the default 0.5 s would add half a second
    to every test that starts one), and its request threads never keep the process alive.
    """
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def serve_until_interrupted(url: str) -> None:
    """For a stand-in's CLI: print where it listens, then wait for Ctrl-C."""
    print(url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
