"""``python -m stack``: the whole game from one command, self-healing, and nothing left after it.

The launcher runs for real (``devtools/launcher.py``): every service under supervisord, the
dashboard under gunicorn, on free loopback ports set through ``PLAY_*``. One launcher serves
the fault-injection tests in turn (a model server start costs 15-20 s on two cores), so they
run in file order and the last one stops it; a second launcher, with a service that cannot
start, ends killed outright. Which processes remain is read from /proc.
"""
from __future__ import annotations

import http.cookies
import json
import os
import re
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis
from pydantic import ValidationError
from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions

from dashboard.game import Game
from dashboard.guard import CALLBACK_PATH
from dashboard.operator.web import COOKIE
from dashboard.settings import Settings as DashboardSettings
from dashboard.store import open_store
from devtools.launcher import SERVICES, alive, descendants, free_ports, launched
from devtools.servers import REPO
from stack.services import Service, services
from stack.settings import Settings
from stack.supervisord import Layout, config
from tests import redis_server
from tests.callbacks import body_for
from tests.tree import find_json

RESTART_S = 30  # the bound for a killed service to answer again
OPERATOR_PASSWORD = "the stand's own console"


def environ(pid: int) -> dict[str, str]:
    entries = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    return dict(entry.split("=", 1) for entry in entries if "=" in entry)


@pytest.fixture(scope="module")
def stack(photo_pool_dir: Path):
    # two dashboard workers (PLAY_WORKERS=2): Redis runs as one more service, their game store
    redis_server.require()  # skips these tests when redis-server is missing
    with launched(photo_pool_dir, workers=2,
                  env={"DASHBOARD_OPERATOR_PASSWORD": OPERATOR_PASSWORD}) as stack:
        yield stack


WITH_REDIS = (*SERVICES, "redis")


# --- one launcher, all services for real; in file order ------------------------------------

@pytest.mark.stack
def test_one_command_starts_every_service_under_supervisord(stack):
    infos = stack.infos()
    assert sorted(infos) == sorted(WITH_REDIS)
    assert {info["statename"] for info in infos.values()} <= {"STARTING", "RUNNING"}
    assert all(stack.wait_healthy(name, 5) < 5 for name in WITH_REDIS)
    assert stack.wait_healthy("dashboard", 1) < 1  # the game's page: the dashboard's own URL
    pids = stack.pids()
    model_url = stack.settings.model_url
    assert environ(pids["explainer"])["EXPLAINER_MODEL_URL"] == model_url
    services = ("MODEL", "EXPLAINER", "IMAGE_SERVER")  # the back-ends it calls
    assert {k: v for k, v in environ(pids["dashboard"]).items()
            if k in {f"DASHBOARD_{s}_URL" for s in services}} == {
        "DASHBOARD_MODEL_URL": model_url,
        "DASHBOARD_EXPLAINER_URL": stack.settings.explainer_url,
        "DASHBOARD_IMAGE_SERVER_URL": stack.settings.image_server_url,
    }
    assert b"gunicorn" in Path(f"/proc/{pids['dashboard']}/cmdline").read_bytes()
    # supervisord, the four services, gunicorn's worker and the health-check listener
    assert len(stack.processes() - {stack.proc.pid}) >= len(SERVICES) + 3
    assert "ERROR" not in stack.drain()


@pytest.mark.stack
def test_two_workers_share_the_redis_the_launcher_runs(stack):
    settings = stack.settings
    dashboard_env = environ(stack.pids()["dashboard"])
    assert dashboard_env["DASHBOARD_STORE_URL"] == settings.redis_url
    assert dashboard_env["DASHBOARD_WORKERS"] == "2"
    assert len(alive(descendants(stack.pids()["dashboard"]))) == 2  # gunicorn's workers
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5)
    config = {name: client.config_get(name)[name] for name in (
        "bind", "maxmemory", "maxmemory-policy", "dir", "save", "appendonly")}
    assert config == {"bind": "127.0.0.1", "maxmemory": str(settings.redis_max_bytes),
                      "maxmemory-policy": "allkeys-lru", "dir": str(settings.redis_dir),
                      "save": "60 1", "appendonly": "no"}
    # what one worker stores, the other reads: any worker continues any game
    store = open_store(DashboardSettings(store_url=settings.redis_url))
    game = Game([])
    store.put("stack-test", game)
    assert store.get("stack-test") == game
    assert client.exists("beat-the-ai:stack-test")


@pytest.mark.stack
@pytest.mark.parametrize("service", WITH_REDIS)  # the model server first: its reload is longest
def test_a_killed_service_answers_again_and_the_others_keep_their_pids(stack, service):
    before = stack.pids()
    old = {before[service]} | descendants(before[service])  # gunicorn's worker too
    killed_at = time.monotonic()
    stack.kill(service, signal.SIGKILL)
    took = stack.wait_replaced(service, before[service], RESTART_S, since=killed_at)
    assert not alive(old)  # what answers is the new process
    after = stack.pids()
    assert {k: v for k, v in after.items() if k != service} == {
        k: v for k, v in before.items() if k != service}, stack.report()
    print(f"{service}: answers again {took:.1f} s after SIGKILL")
    assert any(line["program"] == service and line["pid"] == before[service]
               and line["reason"].startswith("exited (terminated by SIGKILL)")
               for line in stack.log_lines("restarting")), stack.report()


class Console:
    """The operator's console of a running dashboard, over HTTP as its page drives it: the
    callbacks the dashboard itself lists, from its own origin, with the session cookie."""

    def __init__(self, url: str) -> None:
        self.url = url
        with urllib.request.urlopen(url + "/_dash-dependencies", timeout=10) as response:
            self.callbacks = json.loads(response.read())
        self.cookie = ""

    def send(self, values: dict) -> tuple[int, dict]:
        """The callback whose inputs are the first of ``values``'s names: (status, answer)."""
        first = next(iter(values))
        callback = next(cb for cb in self.callbacks
                        if first in [f"{d['id']}.{d['property']}" for d in cb["inputs"]])
        request = urllib.request.Request(
            self.url + CALLBACK_PATH, method="POST",
            data=json.dumps(body_for(callback, {**values, "language.data": "en"})).encode(),
            headers={"Content-Type": "application/json", "Origin": self.url,
                     **({"Cookie": self.cookie} if self.cookie else {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                for header in response.headers.get_all("Set-Cookie") or []:
                    if morsel := http.cookies.SimpleCookie(header).get(COOKIE):
                        self.cookie = f"{COOKIE}={morsel.value}"
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, {}

    def sign_in(self, password: str) -> None:
        status, _ = self.send({"operator-login.n_clicks": 1, "operator-password.value": password})
        assert status == 200 and self.cookie

    def shown(self, component_id: str) -> str:
        """What the status panel shows in ``component_id`` now."""
        status, body = self.send({"operator-tick.n_intervals": 1})
        assert status == 200, status
        found = find_json(body["response"]["operator-status"]["children"], component_id)
        assert found is not None, component_id
        return found["props"]["children"]

    def restart(self, key: str) -> str:
        """Press ``key``'s Restart, then OK: what the console says."""
        status, body = self.send({f"operator-restart-{key}.n_clicks": 1})
        assert status == 200 and body["response"][f"operator-restart-confirm-{key}"] == {
            "displayed": True}, body
        status, body = self.send({f"operator-restart-confirm-{key}.submit_n_clicks": 1})
        assert status == 200, status
        return json.dumps(body)


@pytest.mark.stack
def test_the_operator_restarts_a_frozen_service_and_reloads_the_dashboard(stack):
    console = Console(stack.url)
    assert console.send({"operator-restart-confirm-explainer.submit_n_clicks": 1})[0] == 401
    console.sign_in(OPERATOR_PASSWORD)
    counted = int(console.shown("operator-restarts-explainer"))
    frozen = stack.kill("explainer", signal.SIGSTOP)  # hung: it answers nothing, not SIGTERM
    pressed = time.monotonic()
    assert "Restarting" in console.restart("explainer")
    took = stack.wait_replaced("explainer", frozen, stack.settings.stop_timeout + RESTART_S,
                               since=pressed)
    print(f"a frozen explainer answers again {took:.1f} s after the console's restart")
    assert not alive({frozen})
    assert int(console.shown("operator-restarts-explainer")) > counted
    assert console.shown("operator-state-explainer") in ("starting", "running")
    assert any(line.get("program") == "explainer" and line["reason"] == "the operator asked"
               for line in stack.log_lines("restarting")), stack.report()
    database = stack.settings.run_dir.parent / "stats.sqlite3"
    with sqlite3.connect(database) as connection:
        assert ("restart", "explainer") in connection.execute(
            "SELECT action, detail FROM operator_audit").fetchall()

    # the dashboard: gunicorn's graceful reload, fresh workers under the same master
    master = stack.pids()["dashboard"]
    workers = alive(descendants(master))
    assert "Reloading" in console.restart("dashboard")  # its answer came back whole
    deadline = time.monotonic() + RESTART_S
    while alive(workers) or len(alive(descendants(master))) < 2:
        assert time.monotonic() < deadline, stack.report()
        time.sleep(0.2)
    assert stack.pids()["dashboard"] == master
    stack.wait_healthy("dashboard", RESTART_S)
    assert console.shown("operator-state-dashboard") == "running"


@pytest.mark.stack
def test_ctrl_c_stops_everything_cleanly(stack):
    processes = stack.processes()
    assert stack.stop(signal.SIGINT) == 0
    assert "Stopped." in stack.output and "ERROR" not in stack.output
    assert alive(processes) == set()
    assert stack.listening() == []  # Redis's port too
    assert (stack.settings.redis_dir / "games.rdb").is_file()  # Redis saved the games


# --- a service that cannot start; the launcher killed outright ------------------------------

@pytest.mark.stack
def test_a_crash_loop_is_given_up_loudly_and_a_killed_launcher_leaves_nothing(photo_pool_dir):
    # a setting the explainer refuses: it exits at once, every time
    with launched(photo_pool_dir, env={"EXPLAINER_JPEG_QUALITY": "0"}) as stack:
        assert stack.infos()["explainer"]["statename"] == "FATAL"
        assert re.search(r"^ERROR: explainer keeps failing to start: given up after 4 attempts",
                         stack.drain(), re.MULTILINE)
        assert [line["program"] for line in stack.log_lines("given up")] == ["explainer"]
        for service in ("model-server", "image-server", "dashboard"):
            assert stack.wait_healthy(service, 5) < 5
        time.sleep(1)
        assert stack.proc.poll() is None  # the launcher keeps running, the rest keep serving

        processes = stack.processes()
        stack.proc.kill()
        killed_at = time.monotonic()
        while (alive(processes) or stack.listening()) and time.monotonic() - killed_at < 5:
            time.sleep(0.1)
        assert alive(processes) == set()
        assert stack.listening() == []
        print(f"launcher SIGKILLed: no process, no port after {time.monotonic() - killed_at:.2f} s")


# --- the launcher refuses to start ---------------------------------------------------------

PORTS = ("MODEL_PORT", "MODEL_GRPC_PORT", "IMAGE_SERVER_PORT", "EXPLAINER_PORT",
         "DASHBOARD_PORT")


def launch(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """``python -m stack`` to completion, for runs that must end by themselves."""
    ports = zip(PORTS, free_ports(len(PORTS)), strict=True)
    env = {**{f"PLAY_{name}": str(port) for name, port in ports},
           "PLAY_RUN_DIR": str(tmp_path / "run"), "IMAGE_SERVER_POOL_DIR": str(tmp_path / "pool"),
           **env}
    return subprocess.run([sys.executable, "-m", "stack"], cwd=REPO, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.stack
def test_a_taken_port_is_named_and_nothing_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = launch(tmp_path, PLAY_EXPLAINER_PORT=str(port))
    assert done.returncode == 1
    assert f"explainer on 127.0.0.1:{port}: Address already in use" in done.stdout
    assert not (tmp_path / "pool").exists() and not (tmp_path / "run").exists()


@pytest.mark.stack
def test_a_photo_pool_that_cannot_be_prepared_stops_the_start(tmp_path):
    done = launch(tmp_path, CARS_DATA_DIR=str(tmp_path / "no-dataset"))
    assert done.returncode == 1
    assert re.search(r"ERROR: photo pool preparation \(pid \d+\) exited with code 1",
                     done.stdout)
    assert "no Stanford Cars data" in done.stderr  # the step's own log says why
    assert not (tmp_path / "run").exists()  # supervisord never started


@pytest.mark.stack
def test_invalid_settings_are_refused(tmp_path):
    done = launch(tmp_path, PLAY_HEALTH_INTERVAL="7")  # TICK_5 drives the checks
    assert done.returncode == 2
    assert "PLAY_* settings" in done.stdout and "multiple of 5" in done.stdout


# --- settings and supervisord's config: one address, both sides ----------------------------

def test_defaults_are_the_services_own_ports_and_gunicorn_serves_the_dashboard(monkeypatch):
    for name in os.environ:
        if name.startswith("PLAY_"):
            monkeypatch.delenv(name)
    settings = Settings()
    assert [port for _, _, port in settings.listeners()] == [8501, 8500, 8081, 5001, 8050]
    assert settings.startup_timeout == 180
    assert (settings.health_interval, settings.health_retries) == (5, 3)
    assert settings.dashboard_argv() == [
        sys.executable, "-m", "gunicorn", "--config", "python:dashboard.gunicorn_conf",
        "--bind", "127.0.0.1:8050", "dashboard.app:create_server()"]


def test_redis_runs_for_more_than_one_worker_or_when_asked(monkeypatch):
    for name in os.environ:
        if name.startswith("PLAY_"):
            monkeypatch.delenv(name)
    one = Settings()
    assert not one.uses_redis and "redis" not in [s.name for s in services(one)]
    assert "DASHBOARD_STORE_URL" not in one.dashboard_env()  # the caller's, or on disk
    assert one.dashboard_env()["DASHBOARD_WORKERS"] == "1"
    monkeypatch.setenv("PLAY_WORKERS", "3")
    three = Settings()
    assert three.listeners()[0] == ("redis", "127.0.0.1", 6379)
    assert services(three)[0].name == "redis"  # started first, stopped last
    assert three.dashboard_env()["DASHBOARD_STORE_URL"] == "redis://127.0.0.1:6379/0"
    assert three.dashboard_env()["DASHBOARD_WORKERS"] == "3"
    monkeypatch.setenv("PLAY_REDIS", "0")  # three workers on the embedded on-disk store
    assert not Settings().uses_redis
    monkeypatch.setenv("PLAY_WORKERS", "1")
    monkeypatch.setenv("PLAY_REDIS", "1")
    assert Settings().uses_redis
    with pytest.raises(ValidationError, match=r"port\(s\) \[8050\]"):
        Settings(redis=True, redis_port=8050)


def test_settings_travel_to_the_listener_unchanged(monkeypatch):
    settings = Settings(model_port=9001, health_start_period=12.5, run_dir=Path("/tmp/x y"))
    for name, value in settings.as_env().items():
        monkeypatch.setenv(name, value)
    assert Settings() == settings


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


def test_supervisord_reads_back_each_command_and_environment_exactly(tmp_path):
    awkward = 'a "quoted", 100% \\ \'odd\' value'
    service = Service("odd", [sys.executable, "-c", "print('50%')", awkward], {"ODD": awkward})
    layout = Layout(tmp_path)
    layout.config.write_text(config(Settings(), layout, [service], "/usr/bin/setpriv"))
    options = ServerOptions()
    options.realize(["-c", str(layout.config)])  # supervisord's own parser
    group = next(group for group in options.process_group_configs if group.name == "odd")
    process = group.process_configs[0]
    assert shlex.split(process.command) == [
        "/usr/bin/setpriv", "--pdeathsig", "KILL", "--", "/usr/bin/env",
        "PYTHONUNBUFFERED=1", f"ODD={awkward}", sys.executable, "-c", "print('50%')", awkward]
    assert process.stopasgroup and process.killasgroup
    assert process.autorestart is RestartUnconditionally


def test_a_console_port_is_a_listener_of_its_own_that_gunicorn_binds_too():
    """``make kiosk`` (PLAY_CONSOLE_PORT=8052): the console's port is checked like every other
    and handed to the dashboard."""
    settings = Settings(console_port=8052)
    assert settings.dashboard_argv()[-2:] == ["--bind", f"{settings.dashboard_host}:8052"]
    assert ("operator console", settings.dashboard_host, 8052) in settings.listeners()
    assert settings.dashboard_env()["DASHBOARD_CONSOLE_PORT"] == "8052"
    assert settings.console_url.endswith(":8052/operator")
    with pytest.raises(ValidationError, match="8050"):
        Settings(console_port=8050)  # the game's port
    plain = Settings()
    assert "DASHBOARD_CONSOLE_PORT" not in plain.dashboard_env()
    assert "--bind" not in plain.dashboard_argv()[-2:]
    assert plain.console_url == plain.dashboard_url + "/operator"
