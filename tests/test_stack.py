"""``python -m stack``: the whole game from one command, and nothing left running after it.

The launcher runs for real: every service, the dashboard under gunicorn, on free loopback ports
set through ``PLAY_*``, with the photo pool in a temporary directory. Which processes remain is
read from /proc: every child leads a process group of its own, so its group also covers what it
started (gunicorn's worker).
"""
from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import pytest
from pydantic import ValidationError

from stack.settings import Settings
from stack.supervisor import (
    ChildExited,
    Service,
    answers,
    free_port,
    spawn,
    stop_processes,
    wait_healthy,
)
from tests.servers import REPO

READY = re.compile(r"Beat the AI is ready: (http://\S+)")
CHILD = re.compile(r"^  (\S+(?: \S+)?) +pid (\d+) ", re.MULTILINE)
SERVICES = {"model server", "image server", "explainer", "dashboard"}
PORTS = ("MODEL_PORT", "MODEL_GRPC_PORT", "IMAGE_SERVER_PORT", "EXPLAINER_PORT",
         "DASHBOARD_PORT")
START_TIMEOUT_S = 180
STOP_TIMEOUT_S = 40  # the launcher's 15 s per stop, with room on a busy 2-core machine


def free_ports(n: int) -> list[int]:
    """``n`` distinct free ports: all held at once while the OS picks them."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def play_env(pool_dir: Path, **ports: int) -> tuple[dict[str, str], dict[str, int]]:
    """``PLAY_*`` for a launcher on free loopback ports (``ports`` overrides some)."""
    ports = {**dict(zip(PORTS, free_ports(len(PORTS)), strict=True)), **ports}
    env = {"PLAY_HOST": "127.0.0.1", "PLAY_DASHBOARD_HOST": "127.0.0.1",
           "PLAY_STARTUP_TIMEOUT": str(START_TIMEOUT_S), "IMAGE_SERVER_POOL_DIR": str(pool_dir),
           **{f"PLAY_{name}": str(port) for name, port in ports.items()}}
    return env, ports


def health_urls(ports: dict[str, int]) -> list[str]:
    base = "http://127.0.0.1"
    return [f"{base}:{ports['MODEL_PORT']}/v1/models/car_classifier",
            f"{base}:{ports['IMAGE_SERVER_PORT']}/health",
            f"{base}:{ports['EXPLAINER_PORT']}/health",
            f"{base}:{ports['DASHBOARD_PORT']}/health"]


def running(groups: Iterable[int]) -> list[int]:
    """Live processes (zombies aside) in these process groups."""
    groups = set(groups)
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):  # ended meanwhile
            state, _ppid, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
            if state != "Z" and int(group) in groups:
                found.append(int(stat.parent.name))
    return found


def environ(pid: int) -> dict[str, str]:
    entries = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    return dict(entry.split("=", 1) for entry in entries if "=" in entry)


def launch(env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    """``python -m stack`` to completion, for runs that must end by themselves."""
    return subprocess.run([sys.executable, "-m", "stack"], cwd=REPO, env={**os.environ, **env},
                          stdout=subprocess.PIPE, text=True, timeout=60, check=False, **kwargs)


class Launcher:
    """``python -m stack`` in the background, its stdout read as it comes."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "stack"], cwd=REPO,
                                     env={**os.environ, **env}, stdout=subprocess.PIPE, text=True)
        self.output = ""
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line)

    def _drain(self) -> None:
        with suppress(queue.Empty):
            while True:
                self.output += self._lines.get_nowait()

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while (match := pattern.search(self.output)) is None:
            if time.monotonic() > deadline or not self._reader.is_alive() and self._lines.empty():
                pytest.fail(f"no {pattern.pattern!r} from the launcher:\n{self.output}")
            with suppress(queue.Empty):
                self.output += self._lines.get(timeout=0.2)
        return match

    def finish(self, timeout: float) -> int:
        """Wait for the launcher to exit; its exit code, with all its output read."""
        code = self.proc.wait(timeout)
        self._reader.join()
        self._drain()
        return code

    def children(self) -> dict[str, int]:
        """Service name → pid, as the launcher announced them."""
        self._drain()
        return {name: int(pid) for name, pid in CHILD.findall(self.output)}


@contextmanager
def launched(env: dict[str, str]) -> Iterator[Launcher]:
    """A launcher for the ``with`` block; whatever a failed test left running is killed."""
    launcher = Launcher(env)
    try:
        yield launcher
    finally:
        if launcher.proc.poll() is None:
            launcher.proc.terminate()
            try:
                launcher.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                launcher.proc.kill()
        for pid in running(launcher.children().values()):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def pool_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pool for the module: the first launcher copies the photos, the next reuse them."""
    return tmp_path_factory.mktemp("stack") / "photo_pool"


# --- the launcher, all services for real -------------------------------------------------

def test_one_command_starts_the_game_and_ctrl_c_stops_all_of_it(pool_dir):
    env, ports = play_env(pool_dir)
    model_url = f"http://127.0.0.1:{ports['MODEL_PORT']}"
    with launched(env) as launcher:
        url = launcher.wait_for(READY, START_TIMEOUT_S).group(1)
        assert url == f"http://127.0.0.1:{ports['DASHBOARD_PORT']}"
        children = launcher.children()
        assert set(children) == SERVICES
        assert all(answers(health) for health in health_urls(ports))
        assert answers(url)  # the game's page itself
        assert environ(children["explainer"])["EXPLAINER_MODEL_URL"] == model_url
        assert {k: v for k, v in environ(children["dashboard"]).items()
                if k.startswith("DASHBOARD_") and k.endswith("_URL")} == {
            "DASHBOARD_MODEL_URL": model_url,
            "DASHBOARD_EXPLAINER_URL": f"http://127.0.0.1:{ports['EXPLAINER_PORT']}",
            "DASHBOARD_IMAGE_SERVER_URL": f"http://127.0.0.1:{ports['IMAGE_SERVER_PORT']}",
        }
        assert b"gunicorn" in Path(f"/proc/{children['dashboard']}/cmdline").read_bytes()
        assert len(running(children.values())) > len(SERVICES)  # gunicorn's worker too

        launcher.proc.send_signal(signal.SIGINT)
        assert launcher.finish(STOP_TIMEOUT_S) == 0
    assert "Stopped." in launcher.output and "ERROR" not in launcher.output
    assert running(children.values()) == []
    assert not any(answers(health) for health in health_urls(ports))


def test_a_service_that_dies_stops_the_others_and_fails(pool_dir):
    env, _ = play_env(pool_dir)
    with launched(env) as launcher:
        launcher.wait_for(READY, START_TIMEOUT_S)
        children = launcher.children()
        os.kill(children["explainer"], signal.SIGKILL)
        assert launcher.finish(STOP_TIMEOUT_S) == 1
    assert (f"ERROR: explainer (pid {children['explainer']}) exited with signal SIGKILL"
            in launcher.output)
    assert running(children.values()) == []


def test_a_taken_port_is_named_and_nothing_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env, _ = play_env(tmp_path / "pool", EXPLAINER_PORT=port)
        done = launch(env)
    assert done.returncode == 1
    assert f"explainer on 127.0.0.1:{port}: Address already in use" in done.stdout
    assert "pid" not in done.stdout and not (tmp_path / "pool").exists()


def test_a_photo_pool_that_cannot_be_prepared_stops_the_start(tmp_path):
    env, _ = play_env(tmp_path / "pool")
    done = launch({**env, "CARS_DATA_DIR": str(tmp_path / "no-dataset")},
                  stderr=subprocess.PIPE)
    assert done.returncode == 1
    assert re.search(r"ERROR: photo pool preparation \(pid \d+\) exited with code 1",
                     done.stdout)
    assert "no Stanford Cars data" in done.stderr  # the step's own log says why
    assert "back-ends" not in done.stdout


# --- settings: one address, both sides ----------------------------------------------------

def test_defaults_are_the_services_own_ports_and_gunicorn_serves_the_dashboard(monkeypatch):
    for name in os.environ:
        if name.startswith("PLAY_"):
            monkeypatch.delenv(name)
    settings = Settings()
    assert [port for _, _, port in settings.listeners()] == [8501, 8500, 8081, 5001, 8050]
    assert settings.startup_timeout == 180
    assert settings.dashboard_argv() == [
        sys.executable, "-m", "gunicorn", "--config", "python:dashboard.gunicorn_conf",
        "--bind", "127.0.0.1:8050", "dashboard.app:create_server()"]


def test_services_on_every_interface_are_called_on_loopback():
    settings = Settings(host="0.0.0.0", dashboard_host="0.0.0.0", model_port=9001)
    assert settings.explainer_env()["EXPLAINER_HOST"] == "0.0.0.0"
    assert settings.explainer_env()["EXPLAINER_MODEL_URL"] == "http://127.0.0.1:9001"
    assert settings.dashboard_env()["DASHBOARD_MODEL_URL"] == "http://127.0.0.1:9001"
    assert settings.dashboard_url == "http://127.0.0.1:8050"
    assert "0.0.0.0:8050" in settings.dashboard_argv()


def test_two_services_on_one_port_are_refused():
    with pytest.raises(ValidationError, match=r"port\(s\) \[5001\]"):
        Settings(explainer_port=5001, image_server_port=5001)


# --- supervisor: the parts the launcher and tests/servers.py share ------------------------

def sleeper(name: str = "sleeper", code: str = "import time; time.sleep(60)") -> Service:
    return Service(name, [sys.executable, "-c", code],
                   health_url=f"http://127.0.0.1:{free_port()}/health")


def test_a_child_that_dies_while_starting_fails_at_once_with_its_exit_code():
    child = spawn(sleeper("quitter", "raise SystemExit(3)"), REPO)
    started = time.monotonic()
    with pytest.raises(ChildExited, match=r"quitter \(pid \d+\) exited with code 3"):
        wait_healthy([child], timeout=60)
    assert time.monotonic() - started < 10


def test_a_child_that_never_answers_times_out_by_name():
    child = spawn(sleeper(), REPO)
    try:
        with pytest.raises(TimeoutError, match=r"sleeper \(http://127\.0\.0\.1:\d+/health\)"):
            wait_healthy([child], timeout=0.5)
    finally:
        assert stop_processes([child.proc]) == [-signal.SIGTERM]


def test_a_child_that_ignores_sigterm_is_killed_with_what_it_started():
    code = ("import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
            "time.sleep(60)")
    child = spawn(sleeper("stubborn", code), REPO)
    deadline = time.monotonic() + 30
    while len(running([child.proc.pid])) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(running([child.proc.pid])) == 2
    assert stop_processes([child.proc], timeout=1) == [-signal.SIGKILL]
    assert running([child.proc.pid]) == []
