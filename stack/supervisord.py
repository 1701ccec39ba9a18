"""supervisord for the launcher: its config, the process itself, and its XML-RPC interface.

Every service runs as a supervisord program wrapped in util-linux ``setpriv --pdeathsig KILL``
and supervisord itself gets PR_SET_PDEATHSIG from the launcher: whichever way the launcher
dies, SIGKILL included, the kernel kills supervisord, which kills its programs (and gunicorn's
workers die with their master, ``dashboard/gunicorn_conf.py``). No orphan keeps a port.
"""
from __future__ import annotations

import http.client
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path

from common import supervisor_rpc
from common.process import die_with_parent
from common.supervisor_rpc import FATAL, RUNNING, STARTING, STOPPED  # noqa: F401 - for callers
from stack.services import Service, python_module
from stack.settings import REPO, SUPERVISORD_SOCKET, Settings

RPC_TIMEOUT_S = 10.0
STDERR_FD = 2
LISTENER = "healthcheck"
# what a call to supervisord may raise: refused, timed out, garbled, or a Fault it answered
RPC_ERRORS = (OSError, http.client.HTTPException, xmlrpc.client.Error)


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over supervisord's unix socket, with a timeout: a frozen supervisord is an error,
    not a launcher that waits for ever."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class _UnixTransport(xmlrpc.client.Transport):
    """A fresh connection per call: nothing half-used is left behind by a failed one."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__()
        self.path, self.timeout = path, timeout

    def make_connection(self, host: object) -> _UnixConnection:
        return _UnixConnection(self.path, self.timeout)


def rpc(server_url: str, timeout: float = RPC_TIMEOUT_S) -> xmlrpc.client.ServerProxy:
    """A client of supervisord's XML-RPC interface at ``unix:///…``; calls time out."""
    transport = _UnixTransport(server_url.removeprefix("unix://"), timeout)
    return xmlrpc.client.ServerProxy("http://localhost", transport)


def _value(text: str) -> str:
    """``text`` for a supervisord config value: its ``%(…)s`` expansion sees a literal %."""
    return text.replace("%", "%%")


def _program_options(settings: Settings) -> str:
    """What every program shares: supervision, stopping, logs to the launcher's stderr."""
    return (
        f"directory={_value(str(REPO))}\n"
        f"startsecs={settings.start_seconds:g}\n"
        f"startretries={settings.start_retries}\n"
        "autorestart=true\n"  # a stand's service should never end, not even with code 0
        f"stopwaitsecs={settings.stop_timeout:g}\n"
        # the whole group: gunicorn's workers, and a frozen process gets its SIGKILL too
        "stopasgroup=true\nkillasgroup=true\n"
        "redirect_stderr=true\n"
        "stdout_logfile=/dev/fd/2\nstdout_logfile_maxbytes=0\n"
    )


@dataclass(frozen=True)
class Layout:
    """Where one launcher's supervisord keeps its files."""

    run_dir: Path

    @property
    def config(self) -> Path:
        return self.run_dir / "supervisord.conf"

    @property
    def socket(self) -> Path:
        return self.run_dir / SUPERVISORD_SOCKET

    @property
    def log(self) -> Path:
        return self.run_dir / "supervisord.log"

    @property
    def server_url(self) -> str:
        return f"unix://{self.socket}"

    def control(self, command: str = "status") -> str:
        """The supervisorctl command line a person can use on this run."""
        return f"supervisorctl -c {shlex.quote(str(self.config))} {command}"


def config(settings: Settings, layout: Layout, services: list[Service], setpriv: str,
           env: str = "/usr/bin/env") -> str:
    """supervisord's config: the services, the health-check listener, a private socket.

    Each command runs as ``setpriv --pdeathsig KILL -- env NAME=value… argv`` (each execs the
    next: supervisord's child is the service itself). Its environment rides in the command,
    which supervisord splits as a shell would, because supervisord's own ``environment=``
    cannot carry a value with a quote in it.
    """
    def wrapped(argv: list[str], variables: dict[str, str] | None = None) -> str:
        assignments = [f"{name}={value}" for name, value in (variables or {}).items()]
        return _value(shlex.join([setpriv, "--pdeathsig", "KILL", "--", env, *assignments,
                                  *argv]))

    run = _value(str(layout.run_dir))
    sections = [
        "[supervisord]\n"
        "nodaemon=true\n"
        "silent=true\n"  # its own log goes to the file; the launcher reports what matters
        f"logfile={run}/supervisord.log\nlogfile_maxbytes=5MB\nlogfile_backups=3\n"
        "loglevel=info\n"
        f"pidfile={run}/supervisord.pid\n"
        f"childlogdir={run}\n"
        # as root, say so: supervisord then skips its warning about not dropping privileges
        + ("user=root\n" if os.geteuid() == 0 else ""),
        f"[unix_http_server]\nfile={_value(str(layout.socket))}\nchmod=0700\n",
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
        f"[supervisorctl]\nserverurl={_value(layout.server_url)}\n",
    ]
    for priority, service in enumerate(services, start=100):  # the dashboard is stopped first
        sections.append(
            f"[program:{service.name}]\n"
            f"command={wrapped(service.argv, {'PYTHONUNBUFFERED': '1', **service.env})}\n"
            f"autostart={str(service.autostart).lower()}\n"
            f"priority={priority}\n"
            + _program_options(settings))
    sections.append(
        f"[eventlistener:{LISTENER}]\n"
        f"command={wrapped(python_module('stack.healthcheck'))}\n"
        "events=TICK_5,PROCESS_STATE\n"
        "priority=1\n"  # started first, stopped last
        f"directory={_value(str(REPO))}\n"
        "autorestart=true\nstopasgroup=true\nkillasgroup=true\n"
        "stdout_logfile=NONE\n"  # its stdout is supervisord's event protocol
        "stderr_logfile=/dev/fd/2\nstderr_logfile_maxbytes=0\n")
    return "\n".join(sections)


class SupervisordError(RuntimeError):
    """supervisord did not come up, or went away."""


@dataclass
class Supervisord:
    """A running supervisord, child of the launcher, and its XML-RPC ``supervisor`` namespace."""

    proc: subprocess.Popen
    layout: Layout
    api: xmlrpc.client.ServerProxy

    @classmethod
    def start(cls, settings: Settings, services: list[Service],
              timeout: float = 30.0) -> Supervisord:
        """Write the config, start ``supervisord -n`` and return once it answers on its socket.

        Its own process group, so a Ctrl-C in the terminal reaches only the launcher, which
        stops supervisord in order; PR_SET_PDEATHSIG, so it never outlives the launcher.
        The launcher's settings travel in its environment, for the health-check listener.
        """
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            raise SupervisordError("setpriv (util-linux) is needed to tie services to the "
                                   "launcher's life; install util-linux")
        layout = Layout(settings.run_dir.resolve())
        layout.run_dir.mkdir(parents=True, exist_ok=True)
        layout.config.write_text(config(settings, layout, services, setpriv,
                                        shutil.which("env") or "/usr/bin/env"))
        proc = subprocess.Popen(
            [*python_module("supervisor.supervisord"), "-n", "-c", str(layout.config)],
            cwd=REPO, env={**os.environ, **settings.as_env()}, stdin=subprocess.DEVNULL,
            stdout=STDERR_FD, process_group=0, preexec_fn=die_with_parent)
        supervisord = cls(proc, layout, rpc(layout.server_url).supervisor)
        try:
            supervisord._wait_running(timeout)
        except BaseException:
            supervisord.stop(timeout=settings.stop_timeout)
            raise
        return supervisord

    def _wait_running(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise SupervisordError(f"supervisord exited with code {self.proc.returncode} "
                                       f"(its log: {self.layout.log})")
            try:
                if self.api.getState()["statename"] == RUNNING:
                    return
            except RPC_ERRORS:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise SupervisordError(f"supervisord did not answer within {timeout:g} s "
                                       f"(its log: {self.layout.log})")
            time.sleep(0.2)

    def processes(self) -> dict[str, dict]:
        """Program name → supervisord's process info (statename, pid, spawnerr, …)."""
        return {info["name"]: info for info in self.api.getAllProcessInfo()
                if info["name"] != LISTENER}

    def stop(self, timeout: float) -> int | None:
        """SIGTERM: supervisord stops every program, the dashboard first, each within its
        stopwaitsecs, and exits. Returns its exit code, None if it had to be SIGKILLed
        (PR_SET_PDEATHSIG then takes its programs with it)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


def last_end(api: xmlrpc.client.ServerProxy, name: str) -> tuple[int, str]:
    """The pid of a program's last process to end, and how it ended ("terminated by SIGKILL",
    "exit status 1"), as supervisord logged them: its process info keeps only -1 for a death
    by signal. ``(0, "status unknown")`` if the log no longer says."""
    try:
        tail = api.readLog(-32768, 0)
    except RPC_ERRORS:
        tail = ""
    return supervisor_rpc.last_end(tail, name)
