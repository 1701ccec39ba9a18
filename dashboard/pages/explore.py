"""``/explore``: the AI's guesses at a glance. A grid of random pool photos (the model's test
split: never trained on), each with the AI's top-1 coloured by the game's rules against the
truth; a touch on one opens its top 5 and where the AI looked; a filter by make; "Another
batch".

A batch is prepared on the dashboard's loop with the game's own parallel, batched calls
(``feeds/explore.py``) and lands in the game store, so any worker can show it: the page shows
"One moment…" and polls, never holding a web thread while the model works. The browser sends
back only the batch's id and a tile's number; the photos come from the store.
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import components
from dashboard.components import POLL_MS
from dashboard.game import EXPLORE, Game, Round
from dashboard.i18n import N_, _, in_language
from dashboard.navigation import LANGUAGE, SESSION, Navigator

MENU = N_("Explore")
PATH = EXPLORE

BATCH = 12  # photos in a batch: a 4×3 grid that fits 1920×1080 and 1280×800
TILES = [f"explore-tile-{i}" for i in range(BATCH)]
GIVE_UP = 60  # polls (30 s) before the page says the batch could not be prepared
ALL_MAKES = "*"  # the filter's value for every make (not "": dbc.Select's placeholder has it)


def tile(played: Round, i: int) -> html.Button:
    """One photo and the AI's top-1, coloured green, amber or red (``components.verdict``)."""
    return html.Button(id=TILES[i], className="explore-tile", n_clicks=0, children=[
        components.image(played.photo, _("Photo {number}").format(number=i + 1),
                         className="explore-img"),
        components.guess_line(_("AI"), played.ai_guess, played.answer, f"explore-guess-{i}"),
    ])


def grid(batch: Game) -> list:
    """The batch's tiles; the slots it does not fill (a make with few photos) stay hidden, so
    the tile callback's inputs are always there."""
    tiles = [tile(played, i) for i, played in enumerate(batch.rounds)]
    return tiles + [html.Button(id=TILES[i], hidden=True, n_clicks=0)
                    for i in range(len(tiles), BATCH)]


def detail(played: Round) -> list:
    """A photo's top 5 (the answer marked) and where the AI looked."""
    return [
        dbc.ModalHeader(dbc.ModalTitle(played.answer.class_name, id="explore-detail-answer")),
        dbc.ModalBody(className="explore-detail", children=[
            html.Div(className="explore-detail-images", children=[
                components.image(played.photo, _("The photo"), id="explore-detail-photo",
                                 className="explore-detail-img"),
                components.overlay(played, id="explore-detail-overlay",
                                   className="explore-detail-img"),
                components.gradcam_legend(),
            ]),
            html.Div(className="explore-detail-side", children=[
                components.guess_line(_("The AI"), played.ai_guess, played.answer,
                                      "explore-detail-guess"),
                html.H2(_("The AI's top 5"), className="box-title"),
                components.top5(played.ai_top, played.answer, id_="explore-top5"),
            ]),
        ]),
    ]


def view(nav: Navigator, _game: Game | None) -> html.Div:
    makes = nav.explore.makes()
    if makes is None:
        return components.waiting()
    return html.Div(id="explore", className="explore", children=[
        html.Div(className="explore-bar", children=[
            html.H1(_("The AI's guesses at a glance"), className="explore-title"),
            html.Label(_("Make"), htmlFor="explore-make", className="explore-label"),
            dbc.Select(id="explore-make", value=ALL_MAKES, class_name="explore-make",
                       options=[{"label": _("All makes"), "value": ALL_MAKES}]
                       + [{"label": make, "value": make} for make in makes]),
            html.Button(_("Another batch"), id="explore-another", className="btn go"),
        ]),
        html.Div(id="explore-grid", className="explore-grid"),
        dcc.Store(id="explore-batch"),
        dcc.Interval(id="explore-poll", interval=POLL_MS, disabled=True),
        dbc.Modal(id="explore-detail", is_open=False, centered=True,
                  labelledby="explore-detail-answer",
                  dialog_class_name="explore-dialog"),
    ])


def register(app: Dash, nav: Navigator) -> None:
    @app.callback(Output("explore-grid", "children"), Output("explore-batch", "data"),
                  Output("explore-poll", "disabled"), Output("explore-poll", "n_intervals"),
                  Input("explore-another", "n_clicks"), Input("explore-make", "value"),
                  SESSION, LANGUAGE)
    @in_language
    def ask(_clicks: int | None, make: str | None, session_id: str):
        """On the page's first showing, "Another batch" and a new make: a new batch is
        prepared, and the page asks for it every POLL_MS."""
        makes = nav.explore.makes() or []
        batch_id = nav.explore.explore(session_id, make if make in makes else None, BATCH)
        return (components.spinner_heading(_("One moment…")), batch_id, False, 0)

    @app.callback(Output("explore-grid", "children", allow_duplicate=True),
                  Output("explore-poll", "disabled", allow_duplicate=True),
                  Input("explore-poll", "n_intervals"), State("explore-batch", "data"),
                  SESSION, LANGUAGE, prevent_initial_call=True)
    @in_language
    def show(polls: int | None, batch_id: str | None, session_id: str):
        batch = nav.explore.explored(session_id)
        if batch is not None and batch.id == batch_id:
            return grid(batch), True
        if (polls or 0) < GIVE_UP:
            raise PreventUpdate
        return html.H2(_("No photos could be prepared just now. Please try again."),
                       id="explore-failed", className="notice"), True

    @app.callback(Output("explore-detail", "children"), Output("explore-detail", "is_open"),
                  *(Input(id_, "n_clicks") for id_ in TILES), State("explore-batch", "data"),
                  SESSION, LANGUAGE, prevent_initial_call=True)
    @in_language
    def open_detail(*args):
        """A touched tile: its photo's details, from the batch in the store by number."""
        *_clicks, batch_id, session_id = args
        if ctx.triggered_id not in TILES or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        index = TILES.index(ctx.triggered_id)
        batch = nav.explore.explored(session_id)
        if batch is None or batch.id != batch_id or index >= len(batch.rounds):
            raise PreventUpdate
        return detail(batch.rounds[index]), True
