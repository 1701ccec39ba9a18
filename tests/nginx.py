"""Debian's nginx for tests: one process in the foreground, as the test's user, with a given
config, its prefix, pid file, temporary files and error log in a folder of the test's own, on
a free loopback port.

    port = free_port()
    with started(work, http_config(work, f"server {{ listen 127.0.0.1:{port}; ... }}"),
                 port) as server:
        server.url                      # http://127.0.0.1:<port>

A config of the repository's (deploy/nginx.conf, image_server/nginx.conf) is used with only
the lines that name the container's paths and ports swapped by the test. Tests that need nginx
are skipped, saying so, when it is not installed (``make system-deps`` installs it). If it
exits or never opens its port, the test fails with its error log; a failure inside the
``with`` block carries the error log too.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.servers import stop

MIME_TYPES = Path("/etc/nginx/mime.types")  # Debian's, included by the image server's config
START_TIMEOUT_S = 30.0
# One process, in the foreground, as the test's user (a root test's workers would run as
# nobody, who cannot reach pytest's temporary directory).
FOREGROUND = "daemon off; master_process off;"
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def binary() -> str:
    """nginx's path; skips the test, saying so, when it is not installed."""
    path = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").is_file() else None)
    if path is None or not MIME_TYPES.is_file():
        pytest.skip("nginx is not installed: make system-deps, or apt-get install nginx-light")
    return path


def argv(work: Path) -> list[str]:
    """nginx with ``work`` as its prefix, ``work/nginx.conf`` and ``work/error.log``."""
    return [binary(), "-p", str(work), "-e", str(work / "error.log"),
            "-c", str(work / "nginx.conf")]


def temp_paths(work: Path, indent: str = " ") -> str:
    """``*_temp_path`` lines for an ``http`` block: in ``work``, not Debian's /var/lib/nginx
    (root's)."""
    return "".join(f"{indent}{kind}_temp_path {work}/{kind};\n" for kind in TEMP_PATHS)


def http_config(work: Path, http: str) -> str:
    """A whole nginx.conf around the contents of its ``http`` block: the pid file and the
    temporary files in ``work``, Debian's MIME types."""
    return (f"pid {work}/nginx.pid;\nevents {{}}\n"
            f"http {{\n include {MIME_TYPES};\n{temp_paths(work)}{http}\n}}\n")


@dataclass(frozen=True)
class Nginx:
    port: int
    work: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def error_log(self) -> str:
        path = self.work / "error.log"
        return path.read_text() if path.is_file() else "(no error log)"


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def started(work: Path, config: str, port: int, stdout: Path | None = None) -> Iterator[Nginx]:
    """nginx running ``config`` (written to ``work/nginx.conf``) for the ``with`` block, once
    it listens on ``port``; its standard output (an access log to /dev/stdout) to ``stdout``."""
    command = argv(work)  # skips first, when nginx is missing
    work.mkdir(parents=True, exist_ok=True)
    (work / "nginx.conf").write_text(config)
    server = Nginx(port, work)
    out = stdout.open("wb") if stdout else None
    try:
        proc = subprocess.Popen([*command, "-g", FOREGROUND], stdin=subprocess.DEVNULL,
                                stdout=out or subprocess.DEVNULL)
    finally:
        if out:
            out.close()
    try:
        # Not a health URL, which may rightly fail (an image server without a pool): the port.
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _port_open(port):
            if proc.poll() is not None:
                pytest.fail(f"nginx exited with code {proc.returncode}:\n{server.error_log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"nginx did not open port {port} within {START_TIMEOUT_S:g} s:\n"
                            f"{server.error_log()}")
            time.sleep(0.05)
        try:
            yield server
        except Exception as e:
            e.add_note(f"nginx's error log:\n{server.error_log()}")
            raise
    finally:
        stop(proc)
