"""Services as child processes: start them, wait until they answer, watch them, stop them.

``python -m stack`` and the tests (``tests/servers.py``) both go through this module, so the
start-up and shutdown the tests rely on are the launcher's own.
"""
from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import NoReturn

POLL_S = 0.2
STOP_TIMEOUT_S = 15.0  # longer than gunicorn's --graceful-timeout 10 and aiohttp's 10 s
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # Ctrl-C, kill, terminal closed
STDERR_FD = 2  # fd 2 itself: sys.stderr may be a stand-in without one (pytest capsys)
SignalHandler = Callable[[int, FrameType | None], object] | int | None
# Health checks go straight to the service, even where http_proxy is set for the outside world.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Service:
    """How to run one service, and the URL that answers 200 once it is ready (None: no URL)."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    health_url: str | None = None


@dataclass(frozen=True)
class Child:
    """A started service: its process, and the name and health URL to report it by."""

    name: str
    proc: subprocess.Popen
    health_url: str | None = None


def python_module(module: str) -> list[str]:
    """``python -m <module>`` with this interpreter, so a child runs in the same virtualenv."""
    return [sys.executable, "-m", module]


def exit_status(code: int) -> str:
    """``code 1`` or ``signal SIGKILL``: Popen reports a death by signal as a negative code."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
    return f"code {code}"


class ChildExited(RuntimeError):
    """A child ended while it should have been running, or a one-off step failed."""

    def __init__(self, child: Child) -> None:
        super().__init__(f"{child.name} (pid {child.proc.pid}) exited with "
                         f"{exit_status(child.proc.returncode)}")
        self.child = child


class Interrupted(Exception):
    """A stop signal (one of STOP_SIGNALS) asked for everything to stop."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now, picked by the OS (for tests and benchmarks)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def bind_error(host: str, port: int) -> OSError | None:
    """Why a server could not listen on ``host:port`` now, or None if it could.

    SO_REUSEADDR, as aiohttp and gunicorn set it: only a listening socket counts as taken, not
    the TIME_WAIT of a connection closed a moment ago.
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            return exc
    return None


def answers(url: str) -> bool:
    """True if ``url`` answers 200 now."""
    try:
        with _direct.open(url, timeout=2) as response:
            return response.status == 200
    except (OSError, http.client.HTTPException):  # refused, reset, timed out, 4xx/5xx, garbled
        return False


def spawn(service: Service, cwd: Path) -> Child:
    """Start ``service`` in a process group of its own, its stdout sent to our stderr.

    Its own group: a Ctrl-C in the terminal reaches only the supervisor, which stops the
    children itself instead of racing them, and a child that hangs is killed together with
    whatever it started (gunicorn's workers). stdout to stderr: all the services' logs share
    stderr, and the launcher's own messages keep stdout. No stdin: a service never reads the
    terminal (from a background group it would be stopped for trying).
    """
    proc = subprocess.Popen(service.argv, cwd=cwd, env={**os.environ, **service.env},
                            stdin=subprocess.DEVNULL, stdout=STDERR_FD, process_group=0)
    return Child(service.name, proc, service.health_url)


def wait_healthy(children: Sequence[Child], timeout: float,
                 check: Callable[[], None] | None = None) -> None:
    """Return once every child's health URL answers 200.

    Raises ChildExited as soon as one of them dies (its exit code says more than a timeout
    would), TimeoutError naming those still silent at the deadline, and whatever ``check``
    raises (called on every poll).
    """
    deadline = time.monotonic() + timeout
    waiting = [c for c in children if c.health_url]
    while True:
        if check:
            check()
        for child in children:
            if child.proc.poll() is not None:
                raise ChildExited(child)
        waiting = [c for c in waiting if not answers(c.health_url)]
        if not waiting:
            return
        if time.monotonic() >= deadline:
            silent = ", ".join(f"{c.name} ({c.health_url})" for c in waiting)
            raise TimeoutError(f"{silent} did not answer within {timeout:g} s")
        time.sleep(POLL_S)


def _kill(proc: subprocess.Popen) -> None:
    """SIGKILL a process, and its whole group where it leads one (as ``spawn`` makes it)."""
    with contextlib.suppress(ProcessLookupError):  # it ended on its own meanwhile
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, signal.SIGKILL)
            return
    proc.kill()


def stop_processes(procs: Sequence[subprocess.Popen],
                   timeout: float = STOP_TIMEOUT_S) -> list[int]:
    """SIGTERM all at once (as Ctrl-C and Docker do), SIGKILL what is left after ``timeout``.

    Returns the exit codes; one killed here reads ``-SIGKILL``.
    """
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill(proc)
            proc.wait()
    return [proc.returncode for proc in procs]


class Supervisor:
    """The children of one run: started, waited for, watched and stopped together.

    Use it as a context manager. Inside, the STOP_SIGNALS only set a flag that every wait
    checks (raising Interrupted), so a signal never lands half-way through starting a process;
    on the way out every child still running is stopped.
    """

    def __init__(self, cwd: Path, stop_timeout: float = STOP_TIMEOUT_S) -> None:
        self.cwd = cwd
        self.stop_timeout = stop_timeout
        self.children: list[Child] = []
        self._signal: int | None = None
        self._previous_handlers: dict[int, SignalHandler] = {}

    def __enter__(self) -> Supervisor:
        for sig in STOP_SIGNALS:
            self._previous_handlers[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_all()
        for sig, handler in self._previous_handlers.items():
            signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signal = signum

    def _check_signal(self) -> None:
        if self._signal is not None:
            raise Interrupted(signal.Signals(self._signal).name)

    def check(self) -> None:
        """Raise Interrupted after a stop signal, ChildExited if a child has ended."""
        self._check_signal()
        for child in self.children:
            if child.proc.poll() is not None:
                self.children.remove(child)  # reported by the exception, nothing left to stop
                raise ChildExited(child)

    def start(self, service: Service) -> Child:
        """Start ``service`` and watch it from now on; returns without waiting for it."""
        child = spawn(service, self.cwd)
        self.children.append(child)
        return child

    def run(self, service: Service) -> None:
        """Run a one-off step to completion; ChildExited if it fails."""
        child = self.start(service)
        while child.proc.poll() is None:
            self._check_signal()
            time.sleep(POLL_S)
        self.children.remove(child)
        if child.proc.returncode != 0:
            raise ChildExited(child)

    def wait_healthy(self, children: Sequence[Child], timeout: float) -> None:
        """``wait_healthy`` that also stops on a signal or the death of any other child."""
        wait_healthy(children, timeout, self.check)

    def watch(self) -> NoReturn:
        """Block while all runs well: raise Interrupted on a signal, ChildExited on a death."""
        while True:
            self.check()
            time.sleep(POLL_S)

    def stop_all(self) -> list[str]:
        """Stop every child still running, last started first; say which did not stop cleanly.

        Clean is exit code 0, or death by SIGTERM for one stopped before it set up its handler
        (the model server while it loads TensorFlow).
        """
        children = [c for c in reversed(self.children) if c.proc.poll() is None]
        self.children = []
        codes = stop_processes([c.proc for c in children], self.stop_timeout)
        return [
            f"{c.name} (pid {c.proc.pid}) did not stop within {self.stop_timeout:g} s: killed"
            if code == -signal.SIGKILL else
            f"{c.name} (pid {c.proc.pid}) exited with {exit_status(code)} when stopped"
            for c, code in zip(children, codes, strict=True) if code not in (0, -signal.SIGTERM)
        ]
