"""The real launcher, ``python -m stack``, on free loopback ports: for fault-injection tests
and benchmarks.

    with launched(pool_dir) as stack:          # returns once "Beat the AI is ready"
        stack.url                              # the game
        pid = stack.kill("explainer")          # SIGKILL (or any signal) to one service
        stack.wait_replaced("explainer", pid, 30, since=time.monotonic())  # seconds it took
        stack.pids()                           # service → pid, from supervisord itself

What the launcher writes lies in a temporary directory: supervisord's run directory (config,
socket, log), the services' logs (``stack.log()``) and, unless given, a fresh game store. On
the way out the launcher is stopped and anything of it still alive is killed.
"""
from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from devtools.ports import free_ports
from stack.health import is_up
from stack.services import services
from stack.settings import Settings
from stack.supervisord import Layout, rpc

REPO = Path(__file__).resolve().parent.parent
READY = re.compile(r"Beat the AI is ready: (http://\S+)")
SERVICES = ("model-server", "image-server", "explainer", "dashboard")
START_TIMEOUT_S = 180
STOP_TIMEOUT_S = 60  # supervisord stops the services one after another


def descendants(pid: int) -> set[int]:
    """Live processes (zombies aside) below ``pid``, read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, ValueError):  # ended meanwhile
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
            if state != "Z":
                children.setdefault(int(ppid), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (not zombies)."""
    live = set()
    for pid in pids:
        with suppress(OSError):
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                live.add(pid)
    return live


class Stack:
    """A running launcher: its output, its services' pids and health, signals to them."""

    def __init__(self, settings: Settings, env: dict[str, str]) -> None:
        self.settings = settings
        self.health = {s.name: s.health_url for s in services(settings)}
        self.layout = Layout(settings.run_dir)
        self.log_path = settings.run_dir.parent / "stderr.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "stack"], cwd=REPO,
                                         env={**os.environ, **env}, stdout=subprocess.PIPE,
                                         stderr=log, text=True)
        self.output = ""
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def url(self) -> str:
        return self.settings.dashboard_url

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line)

    def drain(self) -> str:
        """All the launcher's stdout so far."""
        with suppress(queue.Empty):
            while True:
                self.output += self._lines.get_nowait()
        return self.output

    def log(self) -> str:
        """The services' logs and the health-check listener's JSON lines (its stderr)."""
        return self.log_path.read_text(errors="replace")

    def log_lines(self, message: str) -> list[dict]:
        """The JSON log lines with this message."""
        return [json.loads(line) for line in self.log().splitlines()
                if line.startswith("{") and f'"message": "{message}"' in line]

    def report(self) -> str:
        """What to show when a check fails: the launcher's messages, the end of the logs
        (one line per request left out)."""
        lines = [line for line in self.log().splitlines() if '"message": "request"' not in line]
        return ("--- launcher:\n" + self.drain() + "\n--- logs, requests left out (end):\n"
                + "\n".join(lines[-60:]))

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        """The first match of ``pattern`` in the launcher's stdout; AssertionError if it has not
        come within ``timeout`` s or the launcher ended without it."""
        deadline = time.monotonic() + timeout
        while (match := pattern.search(self.output)) is None:
            if time.monotonic() > deadline or not self._reader.is_alive() and self._lines.empty():
                raise AssertionError(f"no {pattern.pattern!r} from the launcher\n{self.report()}")
            with suppress(queue.Empty):
                self.output += self._lines.get(timeout=0.2)
        return match

    def infos(self) -> dict[str, dict]:
        """Service → supervisord's process info (statename, pid, …)."""
        return {info["name"]: info
                for info in rpc(self.layout.server_url).supervisor.getAllProcessInfo()
                if info["name"] in self.health}

    def pids(self) -> dict[str, int]:
        """Service → pid (0 while it is not running)."""
        return {name: info["pid"] for name, info in self.infos().items()}

    def kill(self, service: str, sig: int = signal.SIGKILL) -> int:
        """Send ``sig`` to the service's main process; its pid."""
        pid = self.pids()[service]
        assert pid, f"{service} is not running"
        os.kill(pid, sig)
        return pid

    def wait_healthy(self, service: str, timeout: float, since: float | None = None) -> float:
        """Seconds (from ``since``, a ``time.monotonic()``, or now) until ``service`` answers
        its health URL; AssertionError after ``timeout`` s."""
        since = time.monotonic() if since is None else since
        while not is_up(self.health[service], timeout=1):
            if time.monotonic() - since > timeout:
                raise AssertionError(f"{service} did not answer within {timeout:g} s\n"
                                     f"{self.report()}")
            time.sleep(0.1)
        return time.monotonic() - since

    def wait_replaced(self, service: str, pid: int, timeout: float, since: float) -> float:
        """Seconds from ``since`` until a new process of ``service`` (not ``pid``) answers its
        health URL; AssertionError after ``timeout`` s."""
        while self.pids()[service] in (0, pid):
            if time.monotonic() - since > timeout:
                raise AssertionError(f"{service} (pid {pid}) was not replaced within "
                                     f"{timeout:g} s\n{self.report()}")
            time.sleep(0.2)
        return self.wait_healthy(service, timeout, since)

    def processes(self) -> set[int]:
        """The launcher and every live process below it."""
        return alive({self.proc.pid}) | descendants(self.proc.pid)

    def listening(self) -> list[int]:
        """The game's ports that something listens on now."""
        busy = []
        for _, host, port in self.settings.listeners():
            with socket.socket() as s:
                s.settimeout(1)
                if s.connect_ex((host, port)) == 0:
                    busy.append(port)
        return busy

    def stop(self, sig: int = signal.SIGINT, timeout: float = STOP_TIMEOUT_S) -> int:
        """Signal the launcher (Ctrl-C by default); its exit code, its stdout all read."""
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self._reader.join()
        self.drain()
        return code


@contextmanager
def launched(pool_dir: Path | None = None, env: dict[str, str] | None = None,
             ready: bool = True, **settings: Any) -> Iterator[Stack]:
    """The launcher on free loopback ports for the ``with`` block.

    ``pool_dir``: the photo pool (prepared there on first use; default the launcher's own);
    ``env``: more environment (``DASHBOARD_*``, ``EXPLAINER_*``…); ``settings``: ``PLAY_*``
    settings by field name (``health_start_period=30``). ``ready``: return only once it says
    the game is ready.
    """
    names = ("model_port", "model_grpc_port", "image_server_port", "explainer_port",
             "dashboard_port", "redis_port")  # Redis's: used when it runs (workers > 1)
    with tempfile.TemporaryDirectory(prefix="stack-") as run_dir:
        chosen = Settings(**{**dict(zip(names, free_ports(len(names)), strict=True)),
                             "host": "127.0.0.1", "dashboard_host": "127.0.0.1",
                             "startup_timeout": START_TIMEOUT_S,
                             "run_dir": Path(run_dir) / "run", **settings})
        full_env = {**chosen.as_env(), "DASHBOARD_STORE_DIR": str(Path(run_dir) / "games"),
                    "DASHBOARD_DATABASE_URL": f"sqlite:///{run_dir}/stats.sqlite3",
                    **({"IMAGE_SERVER_POOL_DIR": str(pool_dir)} if pool_dir else {}),
                    **(env or {})}
        stack = Stack(chosen, full_env)
        try:
            if ready:
                stack.wait_for(READY, START_TIMEOUT_S)
            yield stack
        finally:
            leftovers = stack.processes()
            if stack.proc.poll() is None:
                stack.proc.terminate()
                with suppress(subprocess.TimeoutExpired):
                    stack.proc.wait(STOP_TIMEOUT_S)
            for pid in alive(leftovers | descendants(stack.proc.pid)):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            stack.proc.wait()
