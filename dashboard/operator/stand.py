"""The console's "The stand now": whether each back-end and the game store answer, and, where
the machine's own supervisord runs them (``python -m stack``: ``DASHBOARD_SUPERVISOR_URL``),
what supervisord says of each, how often it has started each again, and a **Restart** button;
then the errors of the last hour (``errors.py``), the model version and the photo pool.

Every call to supervisord is made on the dashboard's loop, within a timeout. A restart asks for
a confirmation, then runs there in the background: stop (supervisord sends SIGTERM, and SIGKILL
after its ``stopwaitsecs``, so a frozen process goes too), wait until stopped, start. The
dashboard itself is not stopped but sent SIGHUP: gunicorn starts fresh workers and lets the old
ones finish what they are answering, the click's own answer included. Only the programs named
in ``KEYS`` can be restarted, each by a callback of its own: no program name ever comes from
the browser. Every restart goes to the audit trail.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import dash_bootstrap_components as dbc
import flask
from dash import Dash, Input, Output, dcc, html
from dash.exceptions import PreventUpdate
from sqlalchemy.exc import SQLAlchemyError

from common.supervisor_rpc import (
    ALREADY_STARTED,
    ASYNC_RPC_ERRORS,
    BAD_NAME,
    CALL_TIMEOUT_S,
    DASHBOARD,
    ENDED,
    EXPLAINER,
    IMAGE_SERVER,
    MODEL_SERVER,
    NOT_RUNNING,
    REDIS,
    STOPPING,
    AsyncSupervisor,
    restarts,
)
from dashboard.i18n import N_, _, in_language, ngettext
from dashboard.loop import Loop
from dashboard.operator import web

if TYPE_CHECKING:
    from dashboard.navigation import Navigator

log = logging.getLogger(__name__)
UNAVAILABLE = "–"
# The console's name for each program it may restart (ids: operator-restart-<key>); "store" is
# the stack's Redis, which runs only for more than one dashboard worker.
KEYS = {"model": MODEL_SERVER, "images": IMAGE_SERVER, "explainer": EXPLAINER, "store": REDIS,
        "dashboard": DASHBOARD}
LABELS = {"model": N_("The AI (model server)"), "images": N_("The photos (image server)"),
          "explainer": N_("Where the AI looked (explainer)"), "store": N_("Game store"),
          "dashboard": N_("This console and the game's pages (dashboard)")}
STATES = {"RUNNING": N_("running"), "STARTING": N_("starting"), "STOPPING": N_("stopping"),
          "STOPPED": N_("stopped"), "BACKOFF": N_("failed to start, trying again"),
          "EXITED": N_("ended, starting again"), "FATAL": N_("given up"),
          "UNKNOWN": N_("unknown")}
LOG_TAIL_BYTES = 64 * 1024  # of supervisord's main log: about 200 restarts' lines
READ_BUDGET_S = 2.0  # the longest the panel waits for supervisord before it says so
POLL_S = 0.5
STOP_DEADLINE_S = 600.0  # longer than any stopwaitsecs: supervisord kills what does not stop


class Outcome(Enum):
    STARTED = "started"
    BUSY = "busy"  # a restart of it, or of another program before the dashboard's, is under way
    NOT_HERE = "not here"  # supervisord runs no such program (the store on disk)
    FAILED = "failed"  # supervisord refused
    UNREACHABLE = "unreachable"  # supervisord did not answer in time


@dataclass(frozen=True)
class Program:
    """One program as supervisord reports it, with its restarts read from the log (None: the
    log could not be read; ``whole`` False: at least this many, the log has grown past its
    start)."""

    state: str
    pid: int
    restarts: int | None
    whole: bool


class Stand:
    """The machine's supervisord for the console: its programs, and their restarts. ``url``
    empty: the services are not run by a local supervisord (``available`` False)."""

    def __init__(self, loop: Loop, url: str) -> None:
        self._loop = loop
        self._rpc = AsyncSupervisor(url) if url else None
        self._restarting: set[str] = set()  # program names; touched on the loop only

    @property
    def available(self) -> bool:
        return self._rpc is not None

    def programs(self) -> dict[str, Program] | None:
        """The programs the console knows, by program name, as supervisord reports them now;
        None if it does not answer within ``READ_BUDGET_S`` (or there is none)."""
        if self._rpc is None:
            return None
        try:
            return self._loop.run(self._read(), timeout=READ_BUDGET_S)
        except (TimeoutError, *ASYNC_RPC_ERRORS) as exc:
            log.warning("supervisord not read", extra={"error": repr(exc)})
            return None

    async def _read(self) -> dict[str, Program]:
        async def tail() -> str | None:
            try:
                return await self._rpc.call("readLog", -LOG_TAIL_BYTES, 0)
            except xmlrpc.client.Fault:  # no log file: the counts are unknown
                return None

        infos, log_tail = await asyncio.gather(self._rpc.call("getAllProcessInfo"), tail())
        programs = {}
        for info in infos:
            name = info["name"]
            if name in KEYS.values():
                count, whole = restarts(log_tail, name) if log_tail is not None else (None, True)
                programs[name] = Program(info["statename"], info["pid"], count, whole)
        return programs

    def restart(self, key: str) -> Outcome:
        """Restart the program of console key ``key`` in the background; whether supervisord
        took it on (waits at most a call's timeout, then the restart carries on regardless)."""
        accepted: concurrent.futures.Future[Outcome] = concurrent.futures.Future()
        self._loop.spawn(self._restart(KEYS[key], accepted))
        try:
            return accepted.result(timeout=CALL_TIMEOUT_S + 1)
        except concurrent.futures.TimeoutError:
            return Outcome.UNREACHABLE

    async def _restart(self, program: str,
                       accepted: concurrent.futures.Future[Outcome]) -> None:
        def say(outcome: Outcome) -> None:
            if not accepted.done():
                accepted.set_result(outcome)

        if program in self._restarting:
            say(Outcome.BUSY)
            return
        self._restarting.add(program)
        try:
            if program == DASHBOARD:
                await self._reload_dashboard(say)
                return
            try:
                await self._rpc.call("stopProcess", program, False)  # SIGTERM, SIGKILL later
            except xmlrpc.client.Fault as exc:
                if exc.faultCode != NOT_RUNNING:  # stopped, given up, or being stopped: start
                    raise
            say(Outcome.STARTED)
            log.warning("restarting", extra={"program": program, "reason": "the operator asked"})
            await self._start_once_stopped(program)
        except xmlrpc.client.Fault as exc:
            say(Outcome.NOT_HERE if exc.faultCode == BAD_NAME else Outcome.FAILED)
            log.warning("not restarted", extra={"program": program, "reason": exc.faultString})
        except ASYNC_RPC_ERRORS as exc:
            say(Outcome.UNREACHABLE)
            log.warning("not restarted", extra={"program": program, "reason": repr(exc)})
        finally:
            self._restarting.discard(program)

    async def _reload_dashboard(self, say: Callable[[Outcome], None]) -> None:
        """gunicorn's graceful reload (SIGHUP to its master): not while another program is
        being stopped, for this worker's loop, which may be the one to start it again, ends."""
        infos = await self._rpc.call("getAllProcessInfo")
        if self._restarting - {DASHBOARD} or any(
                info["statename"] == STOPPING for info in infos if info["name"] in KEYS.values()):
            say(Outcome.BUSY)
            return
        await self._rpc.call("signalProcess", DASHBOARD, "HUP")
        say(Outcome.STARTED)
        log.warning("reloading", extra={"program": DASHBOARD, "reason": "the operator asked"})

    async def _start_once_stopped(self, program: str) -> None:
        """Start ``program`` as soon as supervisord reports it ended; a call that fails on the
        way is tried again (a stopped program is never started by supervisord itself)."""
        deadline = time.monotonic() + STOP_DEADLINE_S
        while time.monotonic() < deadline:
            try:
                info = await self._rpc.call("getProcessInfo", program)
                if info["statename"] in ENDED:
                    try:
                        await self._rpc.call("startProcess", program, False)
                    except xmlrpc.client.Fault as exc:
                        if exc.faultCode != ALREADY_STARTED:  # else: the health check did it
                            raise
                    log.info("restarted", extra={"program": program})
                    return
            except xmlrpc.client.Fault:  # supervisord refused: trying again will not help
                raise
            except ASYNC_RPC_ERRORS as exc:
                log.warning("restart waits", extra={"program": program, "reason": repr(exc)})
            await asyncio.sleep(POLL_S)
        log.error("not restarted", extra={"program": program,
                                          "reason": f"not stopped in {STOP_DEADLINE_S:g} s"})


# --- the panel ------------------------------------------------------------------------------

def layout() -> list:
    """The panel's place (``status`` fills it every few seconds), and what must outlive a
    refresh: the restart's message and its confirmations."""
    return [html.Section(className="operator-box", children=[
        html.Div(id="operator-status"),
        html.Div(id="operator-restart-message", className="mt-2", **{"aria-live": "polite"}),
        *(dcc.ConfirmDialog(id=f"operator-restart-confirm-{key}", message=_confirmation(key))
          for key in KEYS),
    ])]


def _confirmation(key: str) -> str:
    if key == "dashboard":
        return _("Reload the dashboard? Fresh workers take over within seconds; the running "
                 "ones first finish what they are answering, this click included. Games in "
                 "progress are kept.")
    return _("Restart “{service}”? It is stopped (killed if it does not stop in time) and "
             "started again; until it answers, the game shows it as unavailable.").format(
        service=_(LABELS[key]))


def _restarts_text(program: Program) -> str:
    if program.restarts is None:
        return UNAVAILABLE
    if program.whole:
        return str(program.restarts)
    return _("{n} or more").format(n=program.restarts)


def _supervised(key: str, program: Program | None) -> list:
    if program is None:  # not run by supervisord here (the store on disk), or not read
        return [html.Td(UNAVAILABLE), html.Td(UNAVAILABLE), html.Td("")]
    return [
        html.Td(_(STATES.get(program.state, program.state)), id=f"operator-state-{key}"),
        html.Td(_restarts_text(program), id=f"operator-restarts-{key}"),
        html.Td(dbc.Button(_("Restart"), id=f"operator-restart-{key}", color="warning",
                           outline=True, size="sm")),
    ]


def status(nav: Navigator) -> list:
    """What the stand is doing now: the back-ends and, where supervisord runs them here, its
    view of each with a restart button; the errors of the last hour, the model version, the
    photo pool."""
    health = nav.health.current
    supervised = nav.stand.available
    programs = nav.stand.programs() if supervised else None
    answers = {"model": health.model, "images": health.images, "explainer": health.explainer,
               "store": health.store, "dashboard": True}  # this page is the dashboard's answer
    rows = []
    for key in ("model", "images", "explainer", "store", *(["dashboard"] if supervised else [])):
        up = answers[key]
        cells = [html.Td(_(LABELS[key])), html.Td(
            _("up") if up else _("down"), id=f"operator-service-{key}",
            className="text-success-emphasis" if up else "text-danger-emphasis")]
        if supervised:
            cells += _supervised(key, None if programs is None else programs.get(KEYS[key]))
        rows.append(html.Tr(cells))
    head = [html.Thead(html.Tr([html.Th(_("Service")), html.Th(_("Answers")),
                                html.Th(_("Supervisor")), html.Th(_("Restarts")),
                                html.Th("")]))] if supervised else []
    if not supervised:
        note = html.P(_("Restarts are not available here: this machine's supervisor does not "
                        "run the services (for example under Docker Compose)."),
                      id="operator-restarts-off")
    elif programs is None:
        note = dbc.Alert(_("The supervisor does not answer just now."), color="danger",
                         id="operator-supervisor-unavailable", className="py-2")
    else:
        note = None
    pool = nav.catalog.size()
    version = health.version if health.version is not None else UNAVAILABLE
    return [html.H2(_("The stand now"), className="box-title"),
            dbc.Table([*head, html.Tbody(rows)], borderless=True, size="sm",
                      className="mb-2 operator-services"),
            *([note] if note is not None else []),
            html.P(_("Errors in the last hour: {n}").format(n=nav.errors.last_hour()),
                   id="operator-errors-hour"),
            html.P([_("Model version: {version}").format(version=version)],
                   id="operator-model-version"),
            html.P(ngettext("{n} photo in the pool", "{n} photos in the pool", pool).format(
                n=pool), id="operator-pool")]


def _said(text: str, colour: str) -> dbc.Alert:
    return dbc.Alert(text, color=colour, className="mb-0")


def restart(nav: Navigator, key: str) -> dbc.Alert:
    """Restart the program of ``key`` (a confirmed click), audited; what the console says."""
    if not nav.stand.available:
        return _said(_("Restarts are not available here: this machine's supervisor does not "
                       "run the services (for example under Docker Compose)."), "secondary")
    outcome = nav.stand.restart(key)
    service = _(LABELS[key])
    if outcome is Outcome.STARTED:
        try:
            nav.operator.audit(web.address(flask.request), "restart", KEYS[key])
        except SQLAlchemyError as exc:  # the restart is under way all the same
            log.error("restart not audited", extra={"program": KEYS[key], "error": repr(exc)})
        if key == "dashboard":
            return _said(_("Reloading the dashboard: fresh workers take over within seconds. "
                           "This console carries on by itself."), "info")
        return _said(_("Restarting “{service}”… The panel above shows it coming back.").format(
            service=service), "info")
    if outcome is Outcome.BUSY:
        return _said(_("Not now: a restart is under way. Try again once every service runs."),
                     "warning")
    if outcome is Outcome.NOT_HERE:
        return _said(_("“{service}” is not run by this machine's supervisor.").format(
            service=service), "secondary")
    if outcome is Outcome.FAILED:
        return _said(_("The supervisor refused to restart “{service}”.").format(service=service),
                     "danger")
    return _said(_("The supervisor does not answer just now."), "danger")


def register(app: Dash, nav: Navigator) -> None:
    # here, not above: the navigator's module imports the runtime, which imports this one
    from dashboard.navigation import LANGUAGE

    for key in KEYS:
        _register_restart(app, nav, key, LANGUAGE)


def _register_restart(app: Dash, nav: Navigator, key: str, language: object) -> None:
    """Two callbacks per program: its button asks for the confirmation, whose OK restarts that
    program and no other."""
    @app.callback(Output(f"operator-restart-confirm-{key}", "displayed"),
                  Input(f"operator-restart-{key}", "n_clicks"), prevent_initial_call=True)
    def ask(clicks: int | None):
        if not clicks:
            raise PreventUpdate
        return True

    @app.callback(Output("operator-restart-message", "children", allow_duplicate=True),
                  Input(f"operator-restart-confirm-{key}", "submit_n_clicks"), language,
                  prevent_initial_call=True)
    @in_language
    def confirmed(clicks: int | None):
        if not clicks:
            raise PreventUpdate
        return restart(nav, key)
