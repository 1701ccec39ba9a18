"""Which page a visitor sees: one URL callback routes every page, and the buttons that lead
somewhere render that page in the same response as the new URL (one round trip, one render).

No callback here waits on a service: games are taken ready-made (or the page shows
"preparing…" and asks again), and every value a callback receives was checked by ``guard``
first. Every page renders in the visitor's language (the ``language`` store, set from
``?lang=``, the switch, or the browser's preference when the tab opened).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import flask
from dash import Dash, Input, Output, State, clientside_callback, no_update
from dash.exceptions import PreventUpdate

from dashboard import components
from dashboard.catalog import Catalog
from dashboard.event.config import EventConfig
from dashboard.feeds.explore import ExploreFeed
from dashboard.feeds.model_card import ModelCardFeed
from dashboard.feeds.upload import UploadFeed
from dashboard.game import (
    ATTEMPT,
    ATTRACT,
    EASY,
    EXPERT,
    GAME_PAGES,
    HOME,
    JOIN,
    OPERATOR,
    Game,
    route,
)
from dashboard.game_pool import GamePool
from dashboard.health import HealthWatcher
from dashboard.i18n import LANGUAGES, in_language, use
from dashboard.operator import web as operator_web
from dashboard.operator.auth import OperatorAuth
from dashboard.operator.errors import ErrorWindow
from dashboard.operator.stand import Stand
from dashboard.runtime import Runtime
from dashboard.scoreboard import Scoreboard
from dashboard.settings import Settings
from dashboard.show.shows import Shows
from dashboard.store import GameStore

URL = Output("url", "pathname", allow_duplicate=True)
PAGE = Output("page", "children", allow_duplicate=True)
HEADER = Output("header", "children", allow_duplicate=True)
# The path whose page is on screen: the URL change a button makes does not render it twice.
RENDERED = Output("rendered", "data", allow_duplicate=True)
NAV = (PAGE, HEADER, URL, RENDERED)
LANGUAGE = State("language", "data")  # the last argument of every callback that renders text
SESSION = State("session", "data")


class Navigator:
    """Renders the page a session's game allows, and hands every page (its ``view`` and its
    ``register``) the pieces it works with, by name: the game store, the event's settings,
    the dashboard's settings (the phones' address), the back-ends' health, the game pool, the
    catalog of cars, the scoreboard (the statistics), the operator's sign-in and the per-page
    feeds. ``pages`` maps each path this app serves to its view (a path it does not serve,
    like the explorer's in kiosk mode, shows the start page); ``menu`` is the header's
    (path, label) links outside a game."""

    def __init__(self, runtime: Runtime, scoreboard: Scoreboard, operator: OperatorAuth,
                 pages: dict[str, Callable[[Navigator, Game | None], Any]],
                 menu: list[tuple[str, str]], shows: Shows) -> None:
        self.store: GameStore = runtime.store
        self.shows = shows  # crowd shows: the big screen's and the phones' pages
        self.settings: Settings = runtime.settings  # the QR codes: play_url and the Wi-Fi
        self.event: EventConfig = runtime.event
        self.health: HealthWatcher = runtime.health
        self.games: GamePool = runtime.games
        self.catalog: Catalog = runtime.catalog
        self.upload: UploadFeed = runtime.upload
        self.explore: ExploreFeed = runtime.explore
        self.model_card: ModelCardFeed = runtime.model_card
        self.stand: Stand = runtime.stand  # the console: the local supervisor's programs
        self.errors: ErrorWindow = runtime.errors  # the console: errors in the last hour
        self.scoreboard = scoreboard
        self.operator = operator
        self.pages = pages
        self.menu = menu

    def render(self, session_id: str, pathname: str | None) -> tuple:
        """(page, header, URL, rendered) for a visit to ``pathname``: the page the game's
        state allows, and its path."""
        game = self.store.get(session_id)
        target = route(game, pathname)
        if target not in self.pages or (target == OPERATOR and self.operator.enabled
                                        and not operator_web.here(self.operator, flask.request)):
            target = HOME  # the console, on the game's port when it has its own
        page = self.pages[target](self, game)
        if target in GAME_PAGES:
            header = components.header(game)
        else:
            header = components.header(None, [] if target in (ATTRACT, JOIN) else self.menu,
                                       target)
        return page, header, target, target

    def visit(self, session_id: str, pathname: str | None) -> tuple:
        """``render`` for the URL on screen: the URL changes only if the page does."""
        page, header, target, rendered = self.render(session_id, pathname)
        return page, header, target if target != pathname else no_update, rendered

    def offered(self, mode: str) -> str:
        """``mode`` if the event offers it, else the one it does (the owner turned it off
        while a page still showed its button, or a request asks for it anyway)."""
        modes = self.event.current.modes
        return mode if mode in modes else modes[0]

    def start(self, session_id: str, mode: str) -> tuple:
        """A new game for the session in ``mode``: its first round, or "preparing…" until one
        is ready. The game it had is given up (counted as abandoned if it was under way)."""
        mode = self.offered(mode)
        self.scoreboard.abandon(self.store, session_id)
        if self.games.take_game(session_id, mode) is None:
            return components.preparing(mode), components.header(None), no_update, no_update
        return self.render(session_id, ATTEMPT)


def asked_language(search: str | None) -> str | None:
    """The language ``?lang=de`` asks for, if it is one we speak."""
    asked = parse_qs((search or "").lstrip("?")).get("lang", [None])[-1]
    return asked if asked in LANGUAGES else None


def register(app: Dash, nav: Navigator) -> None:
    store = nav.store

    @app.callback(*NAV, Output("language", "data", allow_duplicate=True),
                  Input("url", "pathname"), State("url", "search"), State("rendered", "data"),
                  SESSION, LANGUAGE, prevent_initial_call="initial_duplicate")
    def show(pathname: str | None, search: str | None, rendered: str | None,
             session_id: str, language: str):
        """Every URL: its page, in the visitor's language, or on a page load in the one
        ``?lang=`` asks for (the URL keeps it: a reload of that URL asks again)."""
        if pathname == rendered:  # a button has rendered this page already
            raise PreventUpdate
        asked = asked_language(search) if rendered is None else None
        with use(asked or language):
            page = nav.visit(session_id, pathname)
        return (*page, asked or no_update)

    @app.callback(*NAV, Output("language", "data", allow_duplicate=True),
                  Input("lang", "n_clicks"), State("url", "pathname"), SESSION, LANGUAGE,
                  prevent_initial_call=True)
    def switch_language(clicks: int | None, pathname: str | None, session_id: str,
                        language: str):
        """The switch: the page on screen again, in the other language."""
        if not clicks:
            raise PreventUpdate
        other = next(lang for lang in LANGUAGES if lang != language)
        with use(other):
            return (*nav.visit(session_id, pathname), other)

    # <html lang> follows the visitor's language (screen readers, hyphenation, axe-core).
    clientside_callback("function (language) { document.documentElement.lang = language;"
                        " return language; }",
                        Output("html-lang", "data"), Input("language", "data"))

    def starts_a_game(button: str, mode: str | None) -> None:
        """``button`` starts a new game in ``mode`` (None: the mode of the game it replaces)."""

        @app.callback(*NAV, Input(button, "n_clicks"), SESSION, LANGUAGE,
                      prevent_initial_call=True)
        @in_language
        def clicked(clicks: int | None, session_id: str):
            if not clicks:
                raise PreventUpdate
            current = store.get(session_id)
            return nav.start(session_id, mode or (current.mode if current else EXPERT))

    starts_a_game("play", EXPERT)  # "Expert" on the start page, "Play again" at the finish
    starts_a_game("play-easy", EASY)
    starts_a_game("new-game", None)
