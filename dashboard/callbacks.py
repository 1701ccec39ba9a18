"""Wiring only: one URL callback routes every page; buttons navigate by setting the URL.

No callback waits on a service: games are taken ready-made (or the page shows "preparing…"
and asks again), the home page reads the last health check, and the attract screen shows
what the runtime prepared. Every value a callback receives was checked by ``guard`` first.
"""
from __future__ import annotations

import logging

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from dashboard import initials, layout, wall
from dashboard.game import (
    ATTEMPT,
    ATTRACT,
    CHOICES,
    EASY,
    EXPERT,
    FINISH,
    HOME,
    RESULT,
    STATS,
    route,
)
from dashboard.runtime import Runtime
from dashboard.scoreboard import Scoreboard

log = logging.getLogger(__name__)
URL = Output("url", "pathname", allow_duplicate=True)
# Buttons render the page they lead to in the same response as the new URL (one round trip
# instead of two); the URL change then re-runs ``show``, which renders the same page again.
PAGE = Output("page", "children", allow_duplicate=True)
HEADER = Output("header", "children", allow_duplicate=True)
# The path whose page is on screen: the URL change a button makes does not render it twice.
RENDERED = Output("rendered", "data", allow_duplicate=True)
NAV = (PAGE, HEADER, URL, RENDERED)
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
            page = layout.finish(game, scoreboard.beaten_today(game.scores()[0]),
                                 initials.component(game.id))
        elif target == ATTRACT:
            page = layout.attract(runtime.showcase())
        elif target == STATS:
            page = wall.layout(scoreboard.stats)
        else:
            health = runtime.health
            page = layout.home(health.missing() if runtime.checked() else [],
                               runtime.can_start())
        in_game = target not in (HOME, ATTRACT, STATS)
        return page, layout.header(game if in_game else None), target, target

    def start(session_id: str, mode: str) -> tuple:
        """A new game for the session in ``mode``: its first round, or "preparing…" until one
        is ready. The game it had is given up (counted as abandoned if it was under way)."""
        scoreboard.abandon(store, session_id)
        if runtime.take_game(session_id, mode) is None:
            return layout.preparing(mode), layout.header(None), no_update, no_update
        return render(session_id, ATTEMPT)

    def visit(session_id: str, pathname: str | None) -> tuple:
        page, header, target, _ = render(session_id, pathname)
        return page, header, target if target != pathname else no_update, target

    @app.callback(*NAV, Input("url", "pathname"), State("rendered", "data"),
                  State("session", "data"), prevent_initial_call="initial_duplicate")
    def show(pathname: str | None, rendered: str | None, session_id: str):
        if pathname == rendered:  # a button has rendered this page already
            raise PreventUpdate
        return visit(session_id, pathname)

    @app.callback(*NAV, Input("wait-retry", "n_intervals"),
                  State("url", "pathname"), State("session", "data"), prevent_initial_call=True)
    def show_again(_: int | None, pathname: str | None, session_id: str):
        return visit(session_id, pathname)

    def starts_a_game(button: str, mode: str | None) -> None:
        """``button`` starts a new game in ``mode`` (None: the mode of the game it replaces)."""

        @app.callback(*NAV, Input(button, "n_clicks"), State("session", "data"),
                      prevent_initial_call=True)
        def clicked(clicks: int | None, session_id: str):
            if not clicks:
                raise PreventUpdate
            current = store.get(session_id)
            return start(session_id, mode or (current.mode if current else EXPERT))

    starts_a_game("play", EXPERT)  # "Expert" on the start page, "Play again" at the finish
    starts_a_game("play-easy", EASY)
    starts_a_game("new-game", None)

    @app.callback(*NAV, Input("attract", "n_clicks"), State("session", "data"),
                  prevent_initial_call=True)
    def touch_to_play(clicks: int | None, session_id: str):
        """The attract screen's touch: the start page, where the visitor picks a mode."""
        if not clicks:
            raise PreventUpdate
        return render(session_id, HOME)

    @app.callback(*NAV, Input("prepare-poll", "n_intervals"),
                  State("prepare-mode", "data"), State("session", "data"),
                  prevent_initial_call=True)
    def poll_for_game(polls: int | None, mode: str, session_id: str):
        if runtime.take_game(session_id, mode) is not None:
            return render(session_id, ATTEMPT)
        if (polls or 0) < PREPARE_GIVE_UP:
            raise PreventUpdate
        page, header, target, _ = render(session_id, HOME)
        page.children.append(dbc.Alert(
            "Your game could not be prepared just now. Please try again.",
            color="warning", className="fs-4", id="prepare-failed"))
        return page, header, target, target

    @app.callback(Output("home-status", "children"), Output("play", "disabled"),
                  Output("play-easy", "disabled"), Input("retry", "n_intervals"),
                  prevent_initial_call=True)
    def home_status(_: int | None):
        can_start = runtime.can_start()
        return (layout.home_status(runtime.health.missing(), can_start), not can_start,
                not can_start)

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
        return options, None, layout.model_hint(make, len(options)) if make else no_update

    @app.callback(Output("guess", "disabled"), Input("model", "value"))
    def guess_ready(class_name: str | None) -> bool:
        return not class_name

    @app.callback(*NAV, Input("guess", "n_clicks"), State("model", "value"),
                  State("round-index", "data"), State("session", "data"),
                  prevent_initial_call=True)
    def guess(clicks: int | None, class_name: str | None, index: int, session_id: str):
        cars = {c.class_name: c for c in runtime.cars() or []}
        if not clicks or class_name not in cars:
            raise PreventUpdate
        store.update(session_id, lambda game: game.guess(index, cars[class_name]))
        return render(session_id, RESULT)

    @app.callback(*NAV, *(Input(f"choice-{n}", "n_clicks") for n in range(CHOICES)),
                  State("round-index", "data"), State("session", "data"),
                  prevent_initial_call=True)
    def choose(*args):
        """Easy mode: the touched choice is the guess (the cars are the server's, by index)."""
        *clicks, index, session_id = args
        picked = ctx.triggered_id
        if not any(clicks) or not isinstance(picked, str):
            raise PreventUpdate
        n = int(picked.removeprefix("choice-"))

        def guess(game):
            played = game.round
            return (game.mode == EASY and played is not None and n < len(played.choices)
                    and game.guess(index, played.choices[n]))

        store.update(session_id, guess)
        return render(session_id, RESULT)

    @app.callback(*NAV, Input("next", "n_clicks"), State("round-index", "data"),
                  State("session", "data"), prevent_initial_call=True)
    def next_round(clicks: int | None, index: int, session_id: str):
        if not clicks:
            raise PreventUpdate
        if store.update(session_id, lambda game: game.next_round(index)):
            game = store.get(session_id)
            if game is not None and game.finished:
                scoreboard.finished(game)
        return render(session_id, ATTEMPT)  # the state decides: the next attempt, or the finish
