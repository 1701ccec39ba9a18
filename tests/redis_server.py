"""A throwaway Redis server for tests: Debian's ``redis-server`` on a free loopback port, its
data in a temporary folder, stopped and deleted afterwards.

    def test_it(redis_server):                        # the session's: conftest.py's fixture
        url = redis_server.url                        # redis://127.0.0.1:<port>/0
        with started(maxmemory=8 * 2**20) as own:     # one of its own, e.g. memory-bound

Tests that need it are skipped, saying so, only when the binary is missing (``make
system-deps`` installs it). It runs as a child of the test run (dead with it, even on SIGKILL),
persists nothing and listens on no unix socket.
"""
from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from common.process import die_with_parent
from devtools.servers import free_port

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


def binary() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").is_file() else None)


def require() -> str:
    """redis-server's path; skips the test, saying so, when it is not installed."""
    path = binary()
    if path is None:
        pytest.skip("redis-server is not installed: make system-deps, or apt-get install "
                    "redis-server")
    return path


@dataclass
class Server:
    port: int
    proc: subprocess.Popen

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5, socket_connect_timeout=5)


def _wait_ready(server: Server, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    client = server.client()
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if server.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{log.read_text()}") from None
            time.sleep(0.05)
        finally:
            client.close()


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGCONT)  # a test may have frozen it
        proc.terminate()
    try:
        proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def started(maxmemory: int = 0, policy: str = "allkeys-lru") -> Iterator[Server]:
    """A Redis of its own for the ``with`` block; ``maxmemory`` bytes (0: unbounded)."""
    path = require()
    home = Path(tempfile.mkdtemp(prefix="redis-"))
    port = free_port()
    log = home / "server.log"
    try:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [path, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(home),
                 "--save", "", "--appendonly", "no", "--daemonize", "no",
                 "--maxmemory", str(maxmemory), "--maxmemory-policy", policy,
                 "--maxmemory-samples", "10"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, process_group=0,
                preexec_fn=die_with_parent)
        server = Server(port, proc)
        try:
            _wait_ready(server, log)
            yield server
        finally:
            stop(proc)
    finally:
        shutil.rmtree(home, ignore_errors=True)
