"""Real servers that tests start themselves: Redis (the Debian ``redis-server``) and an S3-API
server (moto's standalone server), each on a free loopback port, in a temporary folder, stopped
when the test session ends.

Tests that need one are marked ``redis`` or ``s3``; where the part is missing they skip with the
reason, and in CI (``AFTERSALES_CI=1``) fail instead (tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    """A TCP port free on the loopback address right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 15.0, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def redis_available() -> bool:
    return os.access(REDIS_SERVER, os.X_OK)


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A throw-away ``redis-server`` (no persistence) on a free port; yields its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process=process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def moto_available() -> bool:
    try:
        import moto.server  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def s3_server() -> Iterator[str]:
    """moto's standalone S3-API server (a thread of this process) on a free port; yields its
    endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per S3 call otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
