"""App factory. ``gunicorn -c python:dashboard.gunicorn_conf 'dashboard.app:create_server()'``."""
from __future__ import annotations

import atexit
import html
import logging
import time
from pathlib import Path

import dash
import flask

from common.logs import setup_logging
from dashboard import guard, metrics, navigation
from dashboard.components import TITLE, shell
from dashboard.errors import json_error
from dashboard.event import web as event_web
from dashboard.event.config import EventConfig
from dashboard.i18n import LANGUAGES, N_, _, negotiate, use
from dashboard.navigation import Navigator, asked_language
from dashboard.operator.auth import OperatorAuth
from dashboard.overload import shed
from dashboard.pages import (
    attempt,
    attract,
    explore,
    finish,
    home,
    join,
    model_card,
    operator,
    result,
    show,
    upload,
    waiting,
    wall,
)
from dashboard.runtime import Runtime
from dashboard.scoreboard import Scoreboard
from dashboard.settings import Settings
from dashboard.show.board import open_board
from dashboard.show.shows import Shows
from dashboard.stats import api, open_stats

log = logging.getLogger("dashboard.access")
# Each has a PATH, a view and its callbacks' register(app, nav); those with a MENU label are in
# the header's menu, in this order.
PAGES = (home, attempt, result, finish, attract, show, join, upload, explore, model_card, wall,
         operator)
# The kiosk profile serves what a visitor may touch (the wall: a second screen; a crowd show
# and the phones that join it), and the operator's console only on a port of its own
# (DASHBOARD_CONSOLE_PORT), never on the game's.
KIOSK_PAGES = (home, attempt, result, finish, attract, show, join, wall)

# The page around Dash's app. Besides Dash's own placeholders it carries what must work when
# Dash itself cannot (the dashboard is restarting, a callback failed): the "One moment…"
# screen and the kiosk's "Still playing?" prompt, both driven by assets/kiosk.js, in every
# language (CSS shows the one <html lang> names), and the kiosk's timings for that script
# (the idle time per request: the event may change it).
INDEX = """<!DOCTYPE html>
<html lang="{%lang%}" data-bs-theme="dark">
  <head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}</head>
  <body>
    <div id="kiosk" hidden data-idle-seconds="{%idle%}" data-countdown-seconds="$countdown"></div>
    {%app_entry%}
    <div id="one-moment" class="kiosk-overlay" hidden role="alertdialog" aria-live="assertive">
      <div class="kiosk-card"><div class="spinner-border mb-4" aria-hidden="true"></div>
        $one_moment
      </div>
    </div>
    <div id="idle-prompt" class="kiosk-overlay" hidden role="alertdialog" aria-live="polite">
      <div class="kiosk-card">
        $still_playing
        <strong id="idle-countdown" class="countdown"></strong>
        $carry_on
      </div>
    </div>
    <footer>{%config%}{%scripts%}{%renderer%}</footer>
  </body>
</html>"""


def _in_every_language(template: str, *texts: str) -> str:
    """``template`` once per language, its ``{}`` filled with ``texts`` translated."""
    parts = []
    for language in LANGUAGES:
        with use(language):
            filled = template.format(*(html.escape(_(text)) for text in texts))
        parts.append(f'<div lang="{language}" data-lang="{language}">{filled}</div>')
    return "\n".join(parts)


def index_page(settings: Settings) -> str:
    """The index template; ``{%lang%}`` and ``{%idle%}`` are filled per request
    (``Page.interpolate_index``)."""
    return (INDEX.replace("$countdown", html.escape(f"{settings.idle_countdown_seconds:g}"))
            .replace("$one_moment", _in_every_language(
                '<h2 class="display-4">{}</h2><p class="fs-3 mb-0">{}</p>',
                N_("One moment…"), N_("The game is catching its breath. It carries on by itself.")))
            .replace("$still_playing", _in_every_language(
                '<h2 class="display-4">{}</h2><p class="fs-3">{}</p>',
                N_("Still playing?"), N_("Touch the screen to carry on. A new game starts in:")))
            .replace("$carry_on", _in_every_language(
                '<button type="button" class="btn btn-primary btn-lg fs-2 px-5">{}</button>',
                N_("I'm still playing"))))


def first_language(event: EventConfig, request: flask.Request) -> str:
    """The language a visitor starts in: ``?lang=``, else the event's, else the dashboard's
    setting, else the browser's preference, else English."""
    return (asked_language(request.query_string.decode("latin-1")) or event.language()
            or negotiate([lang for lang, _q in request.accept_languages]))


class Page(dash.Dash):
    """Dash, with ``<html lang>`` and the kiosk's idle time set per request: the first paint
    is in the right language (the ``language`` store then keeps it in step: navigation.py),
    and a page loaded after the owner changed the idle time counts with the new one."""

    event: EventConfig

    def interpolate_index(self, **kwargs: str) -> str:
        language = first_language(self.event, flask.request)
        idle = self.event.idle_seconds()
        with use(language):
            kwargs["title"] = _(TITLE)
        return (super().interpolate_index(**kwargs).replace("{%lang%}", language, 1)
                .replace("{%idle%}", f"{idle:g}", 1))


def create_app(settings: Settings) -> dash.Dash:
    stats = open_stats(settings.database_url)
    atexit.register(stats.close)
    event = EventConfig(stats.engine, settings)
    runtime = Runtime(settings, event)
    atexit.register(runtime.close)
    scoreboard = Scoreboard(stats, event.allows)
    operator_auth = OperatorAuth(stats.engine, settings)
    app = Page(
        __name__,
        title=_(TITLE),
        update_title=None,
        assets_folder=str(Path(__file__).parent / "assets"),  # Bootstrap CSS: no CDN at the fair
        serve_locally=True,
        suppress_callback_exceptions=True,  # page components come and go with the URL
    )
    app.event = event
    app.index_string = index_page(settings)
    app.layout = lambda: shell(first_language(event, flask.request))
    kiosk_pages = (*KIOSK_PAGES, operator) if settings.console_port else KIOSK_PAGES
    pages = [page for page in PAGES if not (settings.kiosk and page not in kiosk_pages)]
    menu = [] if settings.kiosk else [(page.PATH, page.MENU) for page in pages
                                      if hasattr(page, "MENU")]
    board = open_board(settings)
    atexit.register(board.close)
    shows = Shows(board, runtime.store, runtime.games, scoreboard, event, settings)
    nav = Navigator(runtime, scoreboard, operator_auth, {page.PATH: page.view for page in pages},
                    menu, shows)
    # Each once: the URL callback and the buttons, every page served, and the waiting
    # screens (shown on any path while a game is prepared or a page's data is late).
    for module in (navigation, *pages, waiting):
        module.register(app, nav)
    app.server.register_blueprint(api(stats))
    app.server.register_blueprint(event_web.blueprint(event))
    if operator in pages:  # the console's CSV exports, where the console is
        from dashboard.operator.export import blueprint as operator_export
        app.server.register_blueprint(operator_export(operator_auth, stats))

    @app.server.get("/health")
    def health() -> flask.Response:
        """Answers from memory, never from a service: a hung back-end cannot slow it."""
        health = runtime.health.current
        return flask.jsonify(status="ok", ready_games=runtime.games.ready_count(),
                             kept_answers=runtime.outputs.count(),
                             pool_photos=runtime.catalog.size(),
                             store_ok=health.store, missing=health.missing())

    @app.server.post("/api/abandon")
    def abandon() -> flask.Response:
        """The kiosk's idle reset gives the tab's game up (assets/kiosk.js sends
        ``{"session", "language"}``): it is counted in the statistics as abandoned and removed
        from the store."""
        body = flask.request.get_json(force=True, silent=True)
        session_id = body.get("session") if isinstance(body, dict) else None
        if not guard.is_session_id(session_id):
            return json_error(400, "expected {\"session\": \"<session id>\"}")
        with use(body.get("language")):  # the game is recorded in the visitor's language
            scoreboard.abandon(runtime.store, session_id)
        return flask.Response(status=204)

    @app.server.before_request
    def clock_in() -> None:
        flask.g.started = time.perf_counter()

    @app.server.after_request
    def log_request(response: flask.Response) -> flask.Response:
        """One JSON line per request with its latency, like the aiohttp services."""
        started = flask.g.get("started", time.perf_counter())
        log.info("request", extra={
            "method": flask.request.method, "path": flask.request.path,
            "status": response.status_code, "bytes_out": response.content_length,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        })
        return response

    # After clock_in: its refusals are logged, counted and timed too.
    metrics.install(app.server, kept=runtime.outputs.count)
    guard.install(app, operator_auth, settings.max_request_bytes, settings.max_upload_bytes)
    return app


def create_server() -> flask.Flask:
    settings = Settings()
    setup_logging("dashboard", settings.log_level)
    server = create_app(settings).server
    # Dash registers its scripts on a worker's first request and flags that before it has
    # finished, so a second thread of a fresh worker could be sent a script it does not know
    # yet (a 500): one request here, before any thread serves, does it once.
    server.test_client().get("/health")
    server.wsgi_app = shed(server.wsgi_app, settings.max_queue_seconds, on_shed=metrics.shed)
    return server
