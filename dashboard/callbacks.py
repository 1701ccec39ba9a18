"""Wiring only: one URL callback routes every page; buttons navigate by setting the URL."""
from __future__ import annotations

import logging

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from dashboard import layout
from dashboard.game import ATTEMPT, FINISH, HOME, RESULT, route
from dashboard.runtime import NOT_READY, Runtime

log = logging.getLogger(__name__)
URL = Output("url", "pathname", allow_duplicate=True)
# Buttons render the page they lead to in the same response as the new URL (one round trip
# instead of two); the URL change then re-runs ``show``, which renders the same page again.
PAGE = Output("page", "children", allow_duplicate=True)
HEADER = Output("header", "children", allow_duplicate=True)


def register(app: Dash, runtime: Runtime) -> None:
    store = runtime.store

    def render(session_id: str, pathname: str | None) -> tuple:
        """(page, header, path) for a visit to ``pathname``: the page the game's state allows."""
        game = store.get(session_id)
        target = route(game, pathname)
        if target == ATTEMPT:
            page = layout.attempt(game, runtime.cars())
        elif target == RESULT:
            page = layout.result(game)
        elif target == FINISH:
            page = layout.finish(game)
        else:
            page = layout.home(runtime.ready())
        return page, layout.header(game if target != HOME else None), target

    @app.callback(PAGE, HEADER, URL, Input("url", "pathname"), State("session", "data"),
                  prevent_initial_call="initial_duplicate")
    def show(pathname: str | None, session_id: str):
        page, header, target = render(session_id, pathname)
        return page, header, target if target != pathname else no_update

    @app.callback(PAGE, HEADER, URL, Output("home-alert", "children"), Input("play", "n_clicks"),
                  State("session", "data"), prevent_initial_call=True)
    def play(clicks: int | None, session_id: str):
        if not clicks:
            raise PreventUpdate
        try:
            runtime.new_game(session_id)
        except NOT_READY as exc:
            log.warning("game could not start", extra={"error": str(exc)})
            alert = dbc.Alert("The AI is not ready yet. Please try again in a moment.",
                              color="warning", className="fs-4")
            return no_update, no_update, no_update, alert
        return *render(session_id, ATTEMPT), None

    @app.callback(Output("home-status", "children"), Output("play", "disabled"),
                  Output("retry", "disabled"), Input("retry", "n_intervals"),
                  prevent_initial_call=True)
    def retry(_: int):
        if runtime.ready():
            return None, False, True
        raise PreventUpdate

    @app.callback(Output("model", "options"), Output("model", "value"),
                  Output("model-hint", "children"), Input("make", "value"),
                  prevent_initial_call=True)
    def models_of(make: str | None):
        cars = sorted((c for c in runtime.cars() if c.make == make), key=lambda c: c.label)
        options = [{"label": c.label, "value": c.class_name} for c in cars]
        return options, None, f"{len(options)} {make} models: pick one." if make else no_update

    @app.callback(Output("guess", "disabled"), Input("model", "value"))
    def guess_ready(class_name: str | None) -> bool:
        return not class_name

    @app.callback(PAGE, HEADER, URL, Input("guess", "n_clicks"), State("model", "value"),
                  State("round-index", "data"), State("session", "data"),
                  prevent_initial_call=True)
    def guess(clicks: int | None, class_name: str | None, index: int, session_id: str):
        cars = {c.class_name: c for c in runtime.cars()}
        if not clicks or class_name not in cars:
            raise PreventUpdate
        store.update(session_id, lambda game: game.guess(index, cars[class_name]))
        return render(session_id, RESULT)

    @app.callback(PAGE, HEADER, URL, Input("next", "n_clicks"), State("round-index", "data"),
                  State("session", "data"), prevent_initial_call=True)
    def next_round(clicks: int | None, index: int, session_id: str):
        if not clicks:
            raise PreventUpdate
        store.update(session_id, lambda game: game.next_round(index))
        return render(session_id, ATTEMPT)  # the state decides: the next attempt, or the finish
