"""``python -m stack.healthcheck``: supervisord's event listener for the game's services.

supervisord restarts a service that exits, and gives up on one that keeps failing to start;
it cannot see a service that runs but no longer answers (hung, frozen, deadlocked). This
listener checks every service's health URL on supervisord's TICK_5 events and restarts one
that failed ``PLAY_HEALTH_RETRIES`` checks in a row, through supervisord's XML-RPC (stop: SIGTERM,
SIGKILL after stopwaitsecs; then start). Failures do not count while a fresh service is still
starting: not before it first answers, unless ``PLAY_HEALTH_START_PERIOD`` has passed. It also
logs every restart, whoever makes it, and every give-up, as one JSON line each on stderr.

superlance's httpok does the checks too, but restarts on the first failed check (one slow answer
on a busy 2-core machine would cost a 20 s model reload) and watches one URL per listener.

Run by supervisord only (stdin/stdout carry its event protocol). Settings: ``PLAY_*``, handed
on by the launcher; supervisord's address: ``SUPERVISOR_SERVER_URL``, set by supervisord.
"""
from __future__ import annotations

import logging
import os
import sys
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from supervisor import childutils
from supervisor.xmlrpc import Faults

from common.cli import answer_help
from common.logs import setup_logging
from stack.health import failure
from stack.services import services
from stack.settings import Settings
from stack.supervisord import RPC_ERRORS, RUNNING, STARTING, STOPPED, last_end, rpc

TICK_S = 5
log = logging.getLogger("stack.healthcheck")


@dataclass
class Watch:
    """What the checks found for one run (pid) of a service."""

    pid: int
    answered: bool = False  # once since it started: from then on every failure counts
    failures: int = 0  # in a row


class HealthCheck:
    """Turns supervisord's events into checks, restarts and log lines."""

    def __init__(self, settings: Settings, api: xmlrpc.client.ServerProxy,
                 checks: dict[str, str]) -> None:
        self.settings = settings
        self.api = api
        self.checks = checks  # program name → health URL
        self.watches: dict[str, Watch] = {}
        self.restarting: set[str] = set()  # stopped by us, to be started once STOPPED
        self.ticks = 0
        self.pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="check")

    def handle(self, event: str, payload: str) -> None:
        if event.startswith("TICK_"):
            self.ticks += 1
            if self.ticks % (self.settings.health_interval // TICK_S) == 0:
                self.check_all()
        elif event.startswith("PROCESS_STATE_"):
            headers = childutils.get_headers(payload.split("\n", 1)[0])
            if headers.get("processname") in self.checks:
                self.on_state(event.removeprefix("PROCESS_STATE_"), headers)

    def check_all(self) -> None:
        """Check every started service at once (each within the timeout); restart the sick."""
        running = {info["name"]: info for info in self.api.getAllProcessInfo()
                   if info["name"] in self.checks and info["statename"] in (STARTING, RUNNING)
                   and info["name"] not in self.restarting}
        timeout = self.settings.health_timeout
        results = self.pool.map(lambda name: failure(self.checks[name], timeout), running)
        for (name, info), reason in zip(running.items(), results, strict=True):
            watch = self.watches.get(name)
            if watch is None or watch.pid != info["pid"]:
                watch = self.watches[name] = Watch(info["pid"])
            if reason is None:
                watch.answered, watch.failures = True, 0
                continue
            if not watch.answered and info["now"] - info["start"] < (
                    self.settings.health_start_period):
                continue  # still starting (the model server loads TensorFlow for 10-20 s)
            watch.failures += 1
            if watch.failures >= self.settings.health_retries:
                self.restart(name, info["pid"], f"{watch.failures} health checks failed in a "
                                                f"row, the last: {reason}")

    def restart(self, name: str, pid: int, reason: str) -> None:
        """Stop now, start again once supervisord reports it STOPPED (``on_state``)."""
        log.warning("restarting", extra={"program": name, "pid": pid, "reason": reason})
        try:
            self.api.stopProcess(name, False)
        except xmlrpc.client.Fault as exc:  # it ended meanwhile: supervisord restarts it
            log.info("not stopped", extra={"program": name, "reason": exc.faultString})
            return
        self.restarting.add(name)

    def on_state(self, state: str, headers: dict[str, str]) -> None:
        name = headers["processname"]
        if state == STOPPED and name in self.restarting:
            self.restarting.discard(name)
            try:
                self.api.startProcess(name, False)
            except xmlrpc.client.Fault as exc:  # supervisord is shutting down
                log.info("not started", extra={"program": name, "reason": exc.faultString})
        elif state in ("EXITED", "BACKOFF"):  # supervisord starts it again
            pid, end = last_end(self.api, name)
            reason = f"exited ({end})"
            if state == "BACKOFF":
                reason += (f" within {self.settings.start_seconds:g} s of starting; "
                           f"attempt {int(headers['tries']) + 1} after a growing delay")
            log.warning("restarting", extra={"program": name, "pid": pid, "reason": reason})
        elif state == "FATAL":
            log.error("given up", extra={
                "program": name,
                "reason": f"failed to start {self.settings.start_retries + 1} times in a row"})


def main() -> None:
    answer_help("python -m stack.healthcheck", __doc__)
    settings = Settings()
    setup_logging("healthcheck")
    checks = {service.name: service.health_url for service in services(settings)}
    watcher = HealthCheck(settings, rpc(os.environ["SUPERVISOR_SERVER_URL"]).supervisor, checks)
    log.info("watching", extra={"checks": checks})
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        try:
            watcher.handle(headers["eventname"], payload)
        except xmlrpc.client.Fault as exc:
            if exc.faultCode != Faults.SHUTDOWN_STATE:  # nothing to do while all stops
                log.warning("event not handled", extra={"event": headers["eventname"],
                                                        "reason": exc.faultString})
        except RPC_ERRORS as exc:  # supervisord busy or going away
            log.warning("event not handled", extra={"event": headers["eventname"],
                                                    "reason": repr(exc)})
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
