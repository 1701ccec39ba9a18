"""A throwaway PostgreSQL server for tests: ``initdb`` and ``postgres`` in a temporary folder,
on a free loopback port, with a fresh database per test.

    def test_it(postgres):               # the session's server: conftest.py's fixture
        url = postgres.new_database()    # postgresql://…/db_<n>, empty

The server is Debian's (``apt-get install postgresql``: /usr/lib/postgresql/<version>/bin,
not on PATH) or whatever ``initdb`` is on PATH; tests that need it are skipped, saying so, only
when neither is there. PostgreSQL refuses to run as root, so as root it runs as the
``postgres`` user. It runs as a child of the test run (dead with it, even on SIGKILL), without
fsync (a crash loses nothing we need), and is stopped and deleted at the end of the session.
"""
from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from common.process import die_with_parent
from devtools.servers import free_port

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0
SERVER_USER = "postgres"  # who runs the server when the tests run as root
FAST = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


def server_binaries() -> Path | None:
    """The folder with ``initdb`` and ``postgres``: Debian's newest, else PATH's; None: none."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                    key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                    else 0)
    initdb = debian[-1] if debian else shutil.which("initdb")
    if initdb is None or not (Path(initdb).parent / "postgres").is_file():
        return None
    return Path(initdb).parent


@dataclass
class Server:
    """A running throwaway server; ``new_database()`` for each test that writes."""

    port: int
    _count: itertools.count = field(default_factory=itertools.count)

    @property
    def admin_url(self) -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """An empty database of its own: the PostgreSQL counterpart of a fresh SQLite file.

        Its text sorts as people read it (ICU's en-US), as in the postgres image (en_US.utf8),
        not as in the C locale the server was created with: 'Ä' lies between 'A' and 'Z'.
        """
        name = f"db_{next(self._count)}"
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 '
                         "LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")
        return self.url(name)


def _as_server_user() -> dict:
    """``Popen`` arguments that run a command as the server's user when we are root."""
    if os.geteuid() != 0:
        return {}
    try:
        user = pwd.getpwnam(SERVER_USER)
    except KeyError:
        pytest.skip(f"running as root and there is no {SERVER_USER!r} user to run PostgreSQL")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _wait_ready(server: Server, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            psycopg.connect(server.admin_url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start:\n{log.read_text()}") from None
            time.sleep(0.1)


@contextmanager
def started() -> Iterator[Server]:
    """A PostgreSQL server for the ``with`` block; the test is skipped, saying so, when its
    binaries are missing."""
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries (initdb, postgres) are not installed: "
                    "make system-deps, or apt-get install postgresql")
    as_user = _as_server_user()
    home = Path(tempfile.mkdtemp(prefix="pg-"))
    try:
        if as_user:
            os.chown(home, as_user["user"], as_user["group"])
        data, log = home / "data", home / "server.log"
        subprocess.run([binaries / "initdb", "-D", data, "-U", SERVER_USER, "--auth=trust",
                        "--no-sync", "--encoding=UTF8", "--locale=C"],
                       check=True, capture_output=True, timeout=60, **as_user)
        server = Server(free_port())
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [binaries / "postgres", "-D", data, "-h", "127.0.0.1", "-p", str(server.port),
                 "-k", home, *FAST], stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                process_group=0, preexec_fn=die_with_parent, **as_user)
        try:
            _wait_ready(server, proc, log)
            yield server
        finally:
            proc.send_signal(signal.SIGINT)  # "fast" shutdown: ends the sessions, exits
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    finally:
        shutil.rmtree(home, ignore_errors=True)
