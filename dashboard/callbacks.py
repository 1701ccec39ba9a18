"""Wiring only: one URL callback routes every page; buttons navigate by setting the URL.

No callback waits on a service: games are taken ready-made (or the page shows "preparing…"
and asks again), the home page reads the last health check, and the attract screen shows
what the runtime prepared. Every value a callback receives was checked by ``guard`` first.
"""
from __future__ import annotations

import logging

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from dashboard import layout
from dashboard.game import ATTEMPT, ATTRACT, FINISH, HOME, RESULT, route
from dashboard.runtime import Runtime
from dashboard.scoreboard import Scoreboard

log = logging.getLogger(__name__)
URL = Output("url", "pathname", allow_duplicate=True)
# Buttons render the page they lead to in the same response as the new URL (one round trip
# instead of two); the URL change then re-runs ``show``, which renders the same page again.
PAGE = Output("page", "children", allow_duplicate=True)
HEADER = Output("header", "children", allow_duplicate=True)
PREPARE_GIVE_UP = 60  # polls ("preparing…" for 30 s): then back home, saying why


def register(app: Dash, runtime: Runtime, scoreboard: Scoreboard) -> None:
    store = runtime.store

    def render(session_id: str, pathname: str | None) -> tuple:
        """(page, header, path) for a visit to ``pathname``: the page the game's state allows."""
        game = store.get(session_id)
        target = route(game, pathname)
        if target == ATTEMPT:
            cars = runtime.cars()
            page = layout.attempt(game, cars) if cars is not None else layout.waiting()
        elif target == RESULT:
            page = layout.result(game, scoreboard.share_right(game.round.source))
        elif target == FINISH:
            page = layout.finish(game, scoreboard.beaten_today(game.scores()[0]))
        elif target == ATTRACT:
            page = layout.attract(runtime.showcase())
        else:
            health = runtime.health
            page = layout.home(health.missing() if runtime.checked() else [],
                               runtime.can_start())
        in_game = target not in (HOME, ATTRACT)
        return page, layout.header(game if in_game else None), target

    def start(session_id: str) -> tuple:
        """A new game for the session: its first round, or "preparing…" until one is ready.
        The game it had is given up (counted as abandoned if it was under way)."""
        scoreboard.abandoned(store.get(session_id))
        runtime.abandon(session_id)
        if runtime.take_game(session_id) is None:
            return layout.preparing(), layout.header(None), no_update
        return render(session_id, ATTEMPT)

    def visit(session_id: str, pathname: str | None) -> tuple:
        page, header, target = render(session_id, pathname)
        return page, header, target if target != pathname else no_update

    @app.callback(PAGE, HEADER, URL, Input("url", "pathname"), State("session", "data"),
                  prevent_initial_call="initial_duplicate")
    def show(pathname: str | None, session_id: str):
        return visit(session_id, pathname)

    @app.callback(PAGE, HEADER, URL, Input("wait-retry", "n_intervals"),
                  State("url", "pathname"), State("session", "data"), prevent_initial_call=True)
    def show_again(_: int | None, pathname: str | None, session_id: str):
        return visit(session_id, pathname)

    def starts_a_game(button: str) -> None:
        """``button`` starts a new game: "Let's play", "Play again", "New game", the attract
        screen's touch."""

        @app.callback(PAGE, HEADER, URL, Input(button, "n_clicks"), State("session", "data"),
                      prevent_initial_call=True)
        def clicked(clicks: int | None, session_id: str):
            if not clicks:
                raise PreventUpdate
            return start(session_id)

    for button in ("play", "attract", "new-game"):
        starts_a_game(button)

    @app.callback(PAGE, HEADER, URL, Input("prepare-poll", "n_intervals"),
                  State("session", "data"), prevent_initial_call=True)
    def poll_for_game(polls: int | None, session_id: str):
        if runtime.take_game(session_id) is not None:
            return render(session_id, ATTEMPT)
        if (polls or 0) < PREPARE_GIVE_UP:
            raise PreventUpdate
        page, header, target = render(session_id, HOME)
        page.children.append(dbc.Alert(
            "Your game could not be prepared just now. Please try again.",
            color="warning", className="fs-4", id="prepare-failed"))
        return page, header, target

    @app.callback(Output("home-status", "children"), Output("play", "disabled"),
                  Input("retry", "n_intervals"), prevent_initial_call=True)
    def home_status(_: int | None):
        can_start = runtime.can_start()
        return layout.home_status(runtime.health.missing(), can_start), not can_start

    @app.callback(Output("attract-slide", "children"), Input("attract-tick", "n_intervals"),
                  prevent_initial_call=True)
    def next_slide(n: int | None):
        rounds = runtime.showcase()
        if not rounds:
            raise PreventUpdate
        return layout.attract_slide(rounds, n or 0)

    @app.callback(Output("model", "options"), Output("model", "value"),
                  Output("model-hint", "children"), Input("make", "value"),
                  prevent_initial_call=True)
    def models_of(make: str | None):
        cars = sorted((c for c in runtime.cars() or [] if c.make == make), key=lambda c: c.label)
        options = [{"label": c.label, "value": c.class_name} for c in cars]
        return options, None, f"{len(options)} {make} models: pick one." if make else no_update

    @app.callback(Output("guess", "disabled"), Input("model", "value"))
    def guess_ready(class_name: str | None) -> bool:
        return not class_name

    @app.callback(PAGE, HEADER, URL, Input("guess", "n_clicks"), State("model", "value"),
                  State("round-index", "data"), State("session", "data"),
                  prevent_initial_call=True)
    def guess(clicks: int | None, class_name: str | None, index: int, session_id: str):
        cars = {c.class_name: c for c in runtime.cars() or []}
        if not clicks or class_name not in cars:
            raise PreventUpdate
        store.update(session_id, lambda game: game.guess(index, cars[class_name]))
        return render(session_id, RESULT)

    @app.callback(PAGE, HEADER, URL, Input("next", "n_clicks"), State("round-index", "data"),
                  State("session", "data"), prevent_initial_call=True)
    def next_round(clicks: int | None, index: int, session_id: str):
        if not clicks:
            raise PreventUpdate
        if store.update(session_id, lambda game: game.next_round(index)):
            game = store.get(session_id)
            if game is not None and game.finished:
                scoreboard.finished(game)
        return render(session_id, ATTEMPT)  # the state decides: the next attempt, or the finish
