"""An S3-compatible server for the object-storage tests: moto, in its own process on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.serverkit import free_port


@contextmanager
def moto_server(**env: str) -> Iterator[str]:
    """Yield the endpoint URL of a moto S3 server (its own process: some delta-rs calls hold the GIL while
    they wait on the store, so a server thread in the test process would never answer them)."""
    pytest.importorskip("moto.server", reason="moto[server] is needed for the S3 tests")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("the moto S3 server did not start")
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
