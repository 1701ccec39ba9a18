"""One run of ``python -m stack``: prepare, start supervisord, wait, announce, watch, stop.

supervisord does the supervising (restarts, backoff, give-ups, stopping); the health-check
listener it runs (``stack/healthcheck.py``) restarts what hangs. The launcher is the front: it
refuses to start on taken ports, runs the one-off pool preparation, waits until the game
answers, says so, reports every change of a service's state, and on Ctrl-C, SIGTERM or SIGHUP
has supervisord stop everything in order.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn

from common.process import die_with_parent
from stack.health import is_up
from stack.services import (
    REDIS_SERVER,
    Service,
    backends,
    dashboard,
    prepare_pool,
    redis_server_binary,
    services,
)
from stack.settings import REPO, Settings
from stack.supervisord import (
    FATAL,
    RPC_ERRORS,
    STDERR_FD,
    Supervisord,
    SupervisordError,
    last_end,
)

POLL_S = 0.5
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # Ctrl-C, kill, terminal closed


def say(message: str) -> None:
    """A message for the person at the terminal (flushed: stdout may be a pipe)."""
    print(message, flush=True)


class Interrupted(Exception):
    """A stop signal asked for everything to stop."""


class Failed(Exception):
    """The game cannot start; the message says why."""


@contextmanager
def stop_signals() -> Iterator[list[int]]:
    """While inside, STOP_SIGNALS only append to the yielded list, so a signal never lands
    half-way through starting a process; ``check`` turns it into Interrupted."""
    received: list[int] = []

    def record(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, record) for sig in STOP_SIGNALS}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def check(received: list[int]) -> None:
    if received:
        raise Interrupted(signal.Signals(received[0]).name)


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


def ports_in_use(settings: Settings) -> list[str]:
    return [f"{name} on {host}:{port}: {error.strerror}"
            for name, host, port in settings.listeners() if (error := bind_error(host, port))]


def run_step(step: Service, received: list[int]) -> None:
    """Run a one-off step to completion (it dies with the launcher); Failed if it fails."""
    proc = subprocess.Popen(step.argv, cwd=REPO, env={**os.environ, **step.env},
                            stdin=subprocess.DEVNULL, stdout=STDERR_FD, process_group=0,
                            preexec_fn=die_with_parent)
    try:
        while proc.poll() is None:
            check(received)
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait()
    if proc.returncode:
        raise Failed(f"{step.name} (pid {proc.pid}) exited with code {proc.returncode}")


class Reporter:
    """Says each change of a service's supervisord state, as it is seen (polled)."""

    def __init__(self, supervisord: Supervisord, settings: Settings) -> None:
        self.supervisord = supervisord
        self.settings = settings
        self.seen: dict[str, tuple[str, int]] = {}

    def poll(self) -> dict[str, dict]:
        """The processes' info now, after saying what changed since the last poll."""
        infos = self.supervisord.processes()
        for name, info in infos.items():
            now = (info["statename"], info["pid"])
            before = self.seen.get(name)
            if before != now:
                self.seen[name] = now
                if message := self.describe(name, before, info):
                    say(message)
        return infos

    def describe(self, name: str, before: tuple[str, int] | None, info: dict) -> str | None:
        state, pid = info["statename"], info["pid"]
        was, old_pid = before or ("STOPPED", 0)
        if pid and pid != old_pid:  # a new process; the poll may have missed how the last ended
            if before is None or not old_pid:
                return f"  {name:<13} pid {pid:<8} started"
            if was in ("STARTING", "RUNNING"):
                return (f"{name} (pid {old_pid}) ended "
                        f"({last_end(self.supervisord.api, name)[1]}); started again: pid {pid}")
            return f"{name} started again: pid {pid}"
        if state == "BACKOFF":
            return (f"{name} exited within {self.settings.start_seconds:g} s of starting; "
                    "retrying after a growing delay")
        if state == "STOPPING":
            return f"{name} (pid {pid}) is being stopped"
        if state == FATAL:
            return (f"ERROR: {name} keeps failing to start: given up after "
                    f"{self.settings.start_retries + 1} attempts (its log is above). The "
                    "other services keep serving. To try again: "
                    f"{self.supervisord.layout.control('start ' + name)}")
        return None  # RUNNING: up for start_seconds; EXITED, STOPPED: said when it starts again


def wait_ready(reporter: Reporter, waiting: list[Service], timeout: float,
               received: list[int]) -> list[str]:
    """Return once each service answers its health URL or has been given up on (FATAL);
    the names of those given up on. TimeoutError names those still silent at the deadline."""
    deadline = time.monotonic() + timeout
    given_up: list[str] = []
    while True:
        check(received)
        if reporter.supervisord.proc.poll() is not None:
            raise Failed(f"supervisord exited with code {reporter.supervisord.proc.returncode}")
        infos = reporter.poll()
        for service in list(waiting):
            if infos[service.name]["statename"] == FATAL:
                given_up.append(service.name)
            elif not is_up(service.health_url):
                continue
            waiting.remove(service)
        if not waiting:
            return given_up
        if time.monotonic() >= deadline:
            silent = ", ".join(f"{s.name} ({s.health_url})" for s in waiting)
            raise TimeoutError(f"{silent} did not answer within {timeout:g} s")
        time.sleep(POLL_S)


def serve(supervisord: Supervisord, settings: Settings, received: list[int]) -> NoReturn:
    """Wait for the game, announce it, then report changes until a stop signal (Interrupted)
    or a failure (Failed)."""
    reporter = Reporter(supervisord, settings)
    say(f"Services run under supervisord (to inspect: {supervisord.layout.control()})")
    try:
        wait_ready(reporter, backends(settings), settings.startup_timeout, received)
    except TimeoutError as exc:  # supervisord and the health checks keep at it
        say(f"ERROR: {exc}; starting the dashboard anyway")
    say("Starting the dashboard:")
    supervisord.api.startProcess(dashboard(settings).name, False)
    try:
        if wait_ready(reporter, [dashboard(settings)], settings.startup_timeout, received):
            raise Failed("the dashboard could not start (its log is above)")
    except TimeoutError as exc:
        raise Failed(str(exc)) from None
    rule = "=" * 64
    say(f"\n{rule}\n  Beat the AI is ready: {settings.dashboard_url}\n"
        f"  The operator console (when its password is set): {settings.console_url}\n"
        f"  Press Ctrl-C to stop.\n{rule}\n")
    while True:
        check(received)
        if supervisord.proc.poll() is not None:
            raise Failed(f"supervisord exited with code {supervisord.proc.returncode}")
        reporter.poll()
        time.sleep(POLL_S)


def play(settings: Settings) -> int:
    """The whole run; the exit code: 0 after a stop signal, 1 if the game could not run."""
    if settings.uses_redis and redis_server_binary() is None:
        say(f"ERROR: {REDIS_SERVER} is not installed; it holds the games that the dashboard's "
            f"{settings.workers} worker(s) share. Install it (make system-deps) or set "
            "PLAY_WORKERS=1")
        return 1
    with stop_signals() as received:
        try:
            say("Preparing the photo pool…")
            run_step(prepare_pool(settings), received)
            say("Starting the back-ends:")
            if settings.uses_redis:
                settings.redis_dir.mkdir(parents=True, exist_ok=True)
            supervisord = Supervisord.start(settings, services(settings))
        except Interrupted as exc:
            say(f"\n{exc}: stopped before the services started.")
            return 0
        except (Failed, SupervisordError) as exc:
            say(f"ERROR: {exc}")
            return 1
        try:
            serve(supervisord, settings, received)
        except Interrupted as exc:
            say(f"\n{exc}: stopping all services…")
            code = 0
        except (Failed, *RPC_ERRORS) as exc:
            say(f"ERROR: {exc}; stopping all services…")
            code = 1
        finally:  # each program within stopwaitsecs, one after another, the listener last
            stopped = supervisord.stop(timeout=(len(services(settings)) + 1)
                                       * (settings.stop_timeout + 5))
    if stopped is None:
        say("ERROR: supervisord did not stop in time: killed, and its services with it")
        return 1
    say("Stopped.")
    return code
