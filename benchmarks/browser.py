"""Debian's headless Chromium driven by Playwright, and the API served on a free port, for the
workbench benchmark and its browser tests (never a browser Playwright downloads: the machines
running them reach no download host).

As root Chromium needs --no-sandbox; without the background-networking flags it keeps opening
connections the closed network refuses. Playwright gives every launch a fresh profile directory.
"""

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from playwright.sync_api import Browser, sync_playwright

FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_path() -> Path | None:
    """The Chromium binary (LIENWATCH_CHROMIUM, else Debian's), or None when there is none."""
    found = os.environ.get("LIENWATCH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    path = Path(found)
    return path if path.is_file() and os.access(path, os.X_OK) else None


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium; RuntimeError when the machine has none."""
    path = chromium_path()
    if path is None:
        raise RuntimeError("no Chromium: install Debian's chromium (scripts/install does as root)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(path), headless=True, args=list(FLAGS))
        try:
            yield browser
        finally:
            browser.close()


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app served by uvicorn in a thread on a free port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the API did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
