"""The pages shown while something is not ready: "Preparing your game…" (no game prepared
ahead is free) and "One moment…" (a page's data is late). Both ask again by themselves."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, Input, State
from dash.exceptions import PreventUpdate

from dashboard.game import ATTEMPT, HOME
from dashboard.i18n import _, in_language
from dashboard.navigation import LANGUAGE, NAV, SESSION, Navigator

PREPARE_GIVE_UP = 60  # polls ("preparing…" for 30 s): then back home, saying why


def register(app: Dash, nav: Navigator) -> None:
    @app.callback(*NAV, Input("wait-retry", "n_intervals"), State("url", "pathname"),
                  SESSION, LANGUAGE, prevent_initial_call=True)
    @in_language
    def show_again(_tick: int | None, pathname: str | None, session_id: str):
        return nav.visit(session_id, pathname)

    @app.callback(*NAV, Input("prepare-poll", "n_intervals"), State("prepare-mode", "data"),
                  SESSION, LANGUAGE, prevent_initial_call=True)
    @in_language
    def poll_for_game(polls: int | None, mode: str, session_id: str):
        if nav.games.take_game(session_id, nav.offered(mode)) is not None:
            return nav.render(session_id, ATTEMPT)
        if (polls or 0) < PREPARE_GIVE_UP:
            raise PreventUpdate
        page, *rest = nav.render(session_id, HOME)
        page.children.append(dbc.Alert(
            _("Your game could not be prepared just now. Please try again."),
            color="warning", className="fs-4", id="prepare-failed"))
        return page, *rest
