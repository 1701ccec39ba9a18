"""``/attempt``: the photo, as large as the screen allows, and the visitor's guess.

Expert: the make, from all makes at once, then the model (the makes give way to the make's
models, with a way back). Easy: four big buttons, one of them the answer; a touch is the guess.
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import components
from dashboard.game import ATTEMPT, CHOICES, EASY, RESULT, Car, Game, Round, makes_of
from dashboard.i18n import _, in_language, ngettext
from dashboard.navigation import LANGUAGE, NAV, SESSION, Navigator

PATH = ATTEMPT

ROUND = State("round-index", "data")  # the round the page shows: a stale page changes nothing
PICKER = {"inputClassName": "btn-check", "labelClassName": "btn pick",
          "labelCheckedClassName": "active", "className": "picker"}


def model_hint(make: str, count: int) -> str:
    return ngettext("{count} {make} model: pick it.", "{count} {make} models: pick one.",
                    count).format(count=count, make=make)


def _pickers(cars: list[Car]) -> html.Div:
    """Both steps are on the page; the step showing follows the make (``models_of``)."""
    return html.Div(id="pickers", className="pickers step-make", children=[
        html.Div(className="step step-1", children=[
            html.H2(_("Which car is this? First the make:"), className="question"),
            dbc.RadioItems(id="make", options=makes_of(cars), value=None, **PICKER),
        ]),
        html.Div(className="step step-2", children=[
            html.Div(className="step-head", children=[
                html.Button(["← ", _("Other make")], id="change-make", className="btn back"),
                html.H2(id="model-hint", className="question"),
            ]),
            dbc.RadioItems(id="model", options=[], value=None, **PICKER),
            html.Button(_("Guess"), id="guess", disabled=True, className="btn go"),
        ]),
    ])


def _choices(current: Round) -> html.Div:
    return html.Div(className="pickers", children=[
        html.H2(_("Which car is this?"), className="question"),
        html.Div(id="choices", className="choices", children=[
            html.Button(car.class_name, id=f"choice-{n}", className="btn choice")
            for n, car in enumerate(current.choices)
        ]),
    ])


def layout(game: Game, cars: list[Car]) -> html.Div:
    current = game.round
    assert current is not None
    return html.Div(className="attempt", children=[
        dcc.Store(id="round-index", data=game.current),
        html.Div(className="photo-frame",
                 children=components.photo(current, id="photo", className="main-photo")),
        _choices(current) if game.mode == EASY else _pickers(cars),
    ])


def view(nav: Navigator, game: Game | None) -> html.Div:
    assert game is not None
    cars = nav.catalog.cars()
    return layout(game, cars) if cars is not None else components.waiting()


def register(app: Dash, nav: Navigator) -> None:
    store = nav.store

    @app.callback(Output("model", "options"), Output("model", "value"),
                  Output("model-hint", "children"), Output("pickers", "className"),
                  Input("make", "value"), LANGUAGE, prevent_initial_call=True)
    @in_language
    def models_of(make: str | None):
        if not make:
            return [], None, no_update, "pickers step-make"
        cars = sorted((c for c in nav.catalog.cars() or [] if c.make == make),
                      key=lambda c: c.label)
        options = [{"label": c.label, "value": c.class_name} for c in cars]
        return options, None, model_hint(make, len(options)), "pickers step-model"

    @app.callback(Output("make", "value"), Input("change-make", "n_clicks"),
                  prevent_initial_call=True)
    def change_make(clicks: int | None) -> None:
        if not clicks:
            raise PreventUpdate

    @app.callback(Output("guess", "disabled"), Input("model", "value"))
    def guess_ready(class_name: str | None) -> bool:
        return not class_name

    @app.callback(*NAV, Input("guess", "n_clicks"), State("model", "value"), ROUND, SESSION,
                  LANGUAGE, prevent_initial_call=True)
    @in_language
    def guess(clicks: int | None, class_name: str | None, index: int, session_id: str):
        cars = {c.class_name: c for c in nav.catalog.cars() or []}
        if not clicks or class_name not in cars:
            raise PreventUpdate
        store.update(session_id, lambda game: game.guess(index, cars[class_name]))
        return nav.render(session_id, RESULT)

    @app.callback(*NAV, *(Input(f"choice-{n}", "n_clicks") for n in range(CHOICES)),
                  ROUND, SESSION, LANGUAGE, prevent_initial_call=True)
    @in_language
    def choose(*args):
        """Easy mode: the touched choice is the guess (the cars are the server's, by index)."""
        *clicks, index, session_id = args
        picked = ctx.triggered_id
        if not any(clicks) or not isinstance(picked, str):
            raise PreventUpdate
        n = int(picked.removeprefix("choice-"))

        def guess(game: Game) -> bool:
            played = game.round
            return (game.mode == EASY and played is not None and n < len(played.choices)
                    and game.guess(index, played.choices[n]))

        store.update(session_id, guess)
        return nav.render(session_id, RESULT)
