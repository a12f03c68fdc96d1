"""Serving an app on 127.0.0.1 for tests that need a real HTTP server (concurrent clients, dropped
connections): a FastAPI app under uvicorn, or an http.server handler class."""
from __future__ import annotations

import http.server
import socket
import threading
import time

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app_or_handler):
    """Start serving; returns (base URL, stop)."""
    port = free_port()
    if isinstance(app_or_handler, type):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), app_or_handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()

        def stop_plain():
            server.shutdown()
            thread.join(timeout=10)
        return f"http://127.0.0.1:{port}", stop_plain
    server = uvicorn.Server(uvicorn.Config(app_or_handler, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)

    def stop():
        server.should_exit = True
        thread.join(timeout=10)
    return f"http://127.0.0.1:{port}", stop
