"""supervisord as ``python -m stack`` runs it, for whoever talks to it: the names of its programs,
its XML-RPC interface over its unix socket from an asyncio loop (the dashboard's console; the
launcher and its health-check listener use the synchronous client in ``stack/supervisord.py``),
its fault codes, and what its main log says about a program.

supervisord keeps no restart count and reports only -1 for a death by signal, so both are read
from its main log (``supervisor.readLog``), whose lines look like::

    2025-03-01 14:05:09,123 INFO supervisord started with pid 4242
    2025-03-01 14:05:09,456 INFO spawned: 'explainer' with pid 4244
    2025-03-01 14:07:12,001 WARN exited: explainer (terminated by SIGKILL; not expected)
"""
from __future__ import annotations

import asyncio
import re
import xmlrpc.client
from typing import Any
from xml.parsers.expat import ExpatError

import aiohttp

# The programs' names in supervisord's config (stack/services.py), as the console restarts them.
MODEL_SERVER = "model-server"
IMAGE_SERVER = "image-server"
EXPLAINER = "explainer"
REDIS = "redis"
DASHBOARD = "dashboard"

# supervisord's state names (supervisor.states.ProcessStates), as getProcessInfo reports them
STARTING, RUNNING, STOPPING, STOPPED, FATAL = "STARTING", "RUNNING", "STOPPING", "STOPPED", "FATAL"
BACKOFF, EXITED = "BACKOFF", "EXITED"
ENDED = (STOPPED, EXITED, FATAL)  # no process runs: it can be started
# supervisord's fault codes (supervisor.xmlrpc.Faults) that a caller tells apart
BAD_NAME, ALREADY_STARTED, NOT_RUNNING, SHUTDOWN_STATE = 10, 60, 70, 6

RPC_PATH = "/RPC2"  # supervisord's XML-RPC endpoint
CALL_TIMEOUT_S = 5.0
# what an asynchronous call may raise: refused, timed out, garbled, or a Fault it answered
ASYNC_RPC_ERRORS = (OSError, aiohttp.ClientError, TimeoutError, xmlrpc.client.Error,
                    ExpatError, ValueError)

_STARTED = re.compile(r"supervisord started with pid \d+")


def _spawned(name: str) -> re.Pattern[str]:
    return re.compile(rf"spawned: '{re.escape(name)}' with pid (\d+)")


def last_end(log_tail: str, name: str) -> tuple[int, str]:
    """The pid of a program's last process to end and how it ended ("terminated by SIGKILL",
    "exit status 1"), from the tail of supervisord's main log; ``(0, "status unknown")`` if
    the tail no longer says."""
    pid, end = 0, "status unknown"
    spawned = _spawned(name)
    ended = re.compile(rf"(?:exited|stopped): {re.escape(name)} \(([^;)]*)")
    running = 0
    for line in log_tail.splitlines():
        if match := spawned.search(line):
            running = int(match.group(1))
        elif match := ended.search(line):
            pid, end = running, match.group(1)
    return pid, end


def restarts(log_tail: str, name: str) -> tuple[int, bool]:
    """How many times supervisord has started a program again since it started itself (every
    spawn after the first: a crash, a hang, a restart from the console or supervisorctl, each
    attempt of a failing start), from the tail of its main log; and whether the tail reached
    back to supervisord's start (False: the count is a lower bound, the log has grown past
    it). A new supervisord writing on to the same log counts afresh."""
    lines = log_tail.splitlines()
    starts = [i for i, line in enumerate(lines) if _STARTED.search(line)]
    spawned = _spawned(name)
    if starts:
        count = sum(1 for line in lines[starts[-1]:] if spawned.search(line))
        return max(0, count - 1), True
    return sum(1 for line in lines if spawned.search(line)), False


class AsyncSupervisor:
    """supervisord's XML-RPC interface at ``unix:///…/supervisord.sock``, called from an asyncio
    loop: each call on a fresh connection (nothing half-used is left by a failed one) and within
    a timeout (a frozen supervisord is an error, not a caller that waits for ever). A Fault
    supervisord answers is raised as ``xmlrpc.client.Fault``."""

    def __init__(self, url: str, timeout: float = CALL_TIMEOUT_S) -> None:
        if not url.startswith("unix://"):
            raise ValueError(f"not a unix:// address: {url!r}")
        self.path = url.removeprefix("unix://")
        self.timeout = timeout

    async def call(self, method: str, *params: Any) -> Any:
        """``supervisor.<method>(*params)``'s answer."""
        body = xmlrpc.client.dumps(params, f"supervisor.{method}").encode()
        async with asyncio.timeout(self.timeout):
            connector = aiohttp.UnixConnector(path=self.path)
            async with aiohttp.ClientSession(connector=connector) as session, session.post(
                    f"http://localhost{RPC_PATH}", data=body,
                    headers={"Content-Type": "text/xml"}) as response:
                if response.status != 200:
                    raise xmlrpc.client.ProtocolError(self.path + RPC_PATH, response.status,
                                                      response.reason or "", {})
                answer = await response.read()
        (result,), _method = xmlrpc.client.loads(answer)
        return result
