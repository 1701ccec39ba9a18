"""The console's "The stand now" beyond health: restart counts read from supervisord's log, the
errors of the last hour, and restarts through a real supervisord (its XML-RPC over its unix
socket, from the dashboard's own loop) running stand-in programs under the stack's names; a
frozen one must come back too. The whole launcher is tried in tests/test_stack.py."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from common.supervisor_rpc import EXPLAINER, IMAGE_SERVER, last_end, restarts
from dashboard import guard
from dashboard.loop import Loop
from dashboard.operator.errors import SAMPLE_S, WINDOW_S, ErrorWindow
from dashboard.operator.stand import Outcome, Stand
from dashboard.stats.schema import AuditEntry
from stack.supervisord import rpc
from tests.callbacks import body_for, call, offline_app
from tests.console import PASSWORD, SAME
from tests.tree import find_json

LOG = """\
2025-03-01 09:00:00,001 INFO supervisord started with pid 100
2025-03-01 09:00:00,100 INFO spawned: 'explainer' with pid 101
2025-03-01 09:00:00,101 INFO spawned: 'image-server' with pid 102
2025-03-01 09:00:10,200 INFO success: explainer entered RUNNING state, process has stayed up
2025-03-01 09:05:00,000 WARN exited: explainer (terminated by SIGKILL; not expected)
2025-03-01 09:05:00,010 INFO spawned: 'explainer' with pid 103
2025-03-01 09:06:00,000 INFO stopped: explainer (exit status 0)
2025-03-01 09:06:00,500 INFO spawned: 'explainer' with pid 104
"""


def test_restart_counts_are_every_spawn_after_the_first_since_supervisord_started():
    assert restarts(LOG, EXPLAINER) == (2, True)
    assert restarts(LOG, IMAGE_SERVER) == (0, True)
    assert restarts(LOG, "model-server") == (0, True)  # not started (yet)
    assert restarts(LOG, "explain") == (0, True)  # a name is matched whole
    # a new supervisord writing on to the same log counts afresh
    again = LOG + ("2025-03-02 09:00:00,001 INFO supervisord started with pid 200\n"
                   "2025-03-02 09:00:00,100 INFO spawned: 'explainer' with pid 201\n")
    assert restarts(again, EXPLAINER) == (0, True)
    # a tail that no longer reaches back to the start: every spawn in it, at least
    tail = LOG[LOG.index("0,000 WARN"):]
    assert restarts(tail, EXPLAINER) == (2, False)
    assert last_end(LOG, EXPLAINER) == (103, "exit status 0")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_errors_in_the_last_hour_are_the_totals_rise_over_an_hour_of_minute_samples():
    clock, total = Clock(), [0.0]
    window = ErrorWindow(total=lambda: total[0], clock=clock)
    assert window.last_hour() == 0  # nothing sampled yet
    window.sample()  # as the worker starts
    total[0] = 3
    assert window.last_hour() == 3  # younger than an hour: since the first sample
    for _ in range(int(WINDOW_S / SAMPLE_S)):  # an hour of minutes, 2 more errors in it
        clock.now += SAMPLE_S
        window.sample()
    total[0] = 5
    clock.now += SAMPLE_S / 2
    assert window.last_hour() == 5  # the newest sample an hour old is the first: 0
    clock.now += SAMPLE_S
    assert window.last_hour() == 2  # the 3 of the first minute are over an hour old
    for _ in range(int(WINDOW_S / SAMPLE_S) + 1):  # a quiet hour
        clock.now += SAMPLE_S
        window.sample()
    assert window.last_hour() == 0
    assert len(window._samples) <= WINDOW_S / SAMPLE_S + 2  # an hour of samples is kept


def test_error_sampling_ends_quietly_once_the_process_lets_its_threads_go():
    """At exit the loop's executor goes before the loop's tasks are cancelled: the sampling
    task must end, not die with "Task exception was never retrieved"."""

    async def exiting() -> None:
        await asyncio.get_running_loop().shutdown_default_executor()
        await asyncio.wait_for(ErrorWindow(total=lambda: 0.0)._run(), 5)

    asyncio.run(exiting())


# --- a real supervisord, stand-in programs ---------------------------------------------------

# Like the services, it ends on SIGTERM through a handler: frozen, it never runs the handler
# (the kernel would end a frozen process at once for a SIGTERM without one)
SERVICE = """\
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    time.sleep(1)
"""
CONFIG = """\
[supervisord]
nodaemon=true
silent=true
logfile={run}/supervisord.log
pidfile={run}/supervisord.pid
childlogdir={run}
loglevel=info
{user}
[unix_http_server]
file={run}/supervisord.sock
chmod=0700

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:explainer]
command={python} {run}/service.py
startsecs=0
stopwaitsecs=1
stopasgroup=true
killasgroup=true
"""


@pytest.fixture(scope="module")
def supervisor_url(tmp_path_factory):
    run = tmp_path_factory.mktemp("sv")
    (run / "service.py").write_text(SERVICE)
    (run / "supervisord.conf").write_text(CONFIG.format(
        run=run, python=sys.executable, user="user=root" if os.geteuid() == 0 else ""))
    url = f"unix://{run}/supervisord.sock"
    proc = subprocess.Popen([sys.executable, "-m", "supervisor.supervisord", "-n", "-c",
                             str(run / "supervisord.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, process_group=0)
    try:
        wait_for(lambda: pid(url) > 0, 20)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def pid(url: str, name: str = EXPLAINER) -> int:
    try:
        info = rpc(url, timeout=2).supervisor.getProcessInfo(name)
    except OSError:
        return 0
    return info["pid"] if info["statename"] == "RUNNING" else 0


def wait_for(condition, timeout: float) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"not within {timeout} s"
        time.sleep(0.1)
    return time.monotonic() - started


def test_a_frozen_program_is_restarted_and_counted(supervisor_url):
    loop = Loop()
    try:
        stand = Stand(loop, supervisor_url)
        before = stand.programs()[EXPLAINER]
        assert before.state == "RUNNING" and before.whole
        old = pid(supervisor_url)
        os.kill(old, signal.SIGSTOP)  # frozen: only supervisord's SIGKILL ends it
        assert stand.restart("explainer") is Outcome.STARTED
        took = wait_for(lambda: pid(supervisor_url) not in (0, old), 10)
        print(f"a frozen program answers again {took:.1f} s after the restart")
        assert stand.programs()[EXPLAINER].restarts == before.restarts + 1
        log = rpc(supervisor_url).supervisor.readLog(0, 0)
        assert last_end(log, EXPLAINER) == (old, "terminated by SIGKILL")
        assert stand.restart("store") is Outcome.NOT_HERE  # no Redis here
        assert IMAGE_SERVER not in stand.programs()
        assert not Stand(loop, "").available
    finally:
        loop.close()


def confirm(app, client, key: str) -> tuple[int, str]:
    """The OK of ``key``'s restart confirmation: (status, the answer as text)."""
    name = f"operator-restart-confirm-{key}.submit_n_clicks"
    output = next(k for k, cb in app.callback_map.items()
                  if [f"{d['id']}.{d['property']}" for d in cb["inputs"]] == [name])
    response = client.post(guard.CALLBACK_PATH, headers=SAME, json=body_for(
        {**app.callback_map[output], "output": output}, {name: 1, "language.data": "en"}))
    return response.status_code, response.get_data(as_text=True)


def test_the_console_restarts_only_with_a_session_and_audits_it(tmp_path, supervisor_url):
    app = offline_app(tmp_path, operator_password=PASSWORD, supervisor_url=supervisor_url)
    client = app.server.test_client()
    old = pid(supervisor_url)
    assert confirm(app, client, "explainer")[0] == 401
    time.sleep(1.5)  # what a restart would take here (stopwaitsecs=1)
    assert pid(supervisor_url) == old  # nothing happened

    status, _ = call(app, "operator-message.children", {
        "operator-login.n_clicks": 1, "operator-password.value": PASSWORD},
        client=client, headers=SAME)
    assert status == 200
    status, body = call(app, "operator-status.children", {
        "operator-tick.n_intervals": 1, "language.data": "en"}, client=client, headers=SAME)
    assert status == 200
    panel = body["response"]["operator-status"]["children"]
    count = int(find_json(panel, "operator-restarts-explainer")["props"]["children"])
    assert find_json(panel, "operator-state-explainer")["props"]["children"] == "running"
    assert find_json(panel, "operator-restart-explainer") is not None
    assert find_json(panel, "operator-restart-store") is None  # no Redis under this supervisord
    assert "Errors in the last hour: " in json.dumps(find_json(panel, "operator-errors-hour"))

    status, said = confirm(app, client, "explainer")
    assert status == 200 and "Restarting" in said, said
    wait_for(lambda: pid(supervisor_url) not in (0, old), 10)
    status, body = call(app, "operator-status.children", {
        "operator-tick.n_intervals": 2, "language.data": "en"}, client=client, headers=SAME)
    panel = body["response"]["operator-status"]["children"]
    assert int(find_json(panel, "operator-restarts-explainer")["props"]["children"]) == count + 1
    engine = create_engine(f"sqlite:///{tmp_path}/stats.sqlite3")
    with Session(engine) as session:
        trail = [(e.action, e.detail) for e in session.scalars(select(AuditEntry))]
    assert ("restart", EXPLAINER) in trail


def test_without_a_supervisor_the_console_says_restarts_are_not_available(tmp_path):
    app = offline_app(tmp_path, operator_password=PASSWORD)
    client = app.server.test_client()
    call(app, "operator-message.children", {
        "operator-login.n_clicks": 1, "operator-password.value": PASSWORD},
        client=client, headers=SAME)
    status, body = call(app, "operator-status.children", {
        "operator-tick.n_intervals": 1, "language.data": "en"}, client=client, headers=SAME)
    panel = body["response"]["operator-status"]["children"]
    assert status == 200 and find_json(panel, "operator-restarts-off") is not None
    assert find_json(panel, "operator-restart-model") is None
    status, said = confirm(app, client, "model")
    assert status == 200 and "not available here" in said, said
