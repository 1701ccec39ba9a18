"""Arcade initials on the finish page: three letters picked by touch, no keyboard, saved with
the visitor's finished game for today's top 10 on the wall.

Each slot's letter is a function of its ▲/▼ click counts (``letter``), so no letter the
browser sends is ever trusted: whatever the counts, the initials are three letters A–Z. The
game id comes from the server, rendered into the page (``initials-game``, checked by
``guard`` as a game id); an unknown id or a failing database is a message, never an error.
"""
from __future__ import annotations

import logging
import string

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.guard import is_game_id
from dashboard.i18n import N_, _, in_language
from dashboard.scoreboard import InitialsSaved, Scoreboard

log = logging.getLogger(__name__)
LETTERS = string.ascii_uppercase
SLOTS = range(3)
SAVED = N_("Saved! Look for {initials} on the wall.")
UNKNOWN = N_("This game cannot take initials (it is not a finished game).")
UNAVAILABLE = N_("Your initials could not be saved just now. Please try again.")
REFUSED = N_("That one can't go on the wall. Please pick other letters.")


def letter(up: int | None, down: int | None) -> str:
    """The slot's letter after ``up`` ▲ and ``down`` ▼ touches: A, cycling through A–Z."""
    return LETTERS[((up or 0) - (down or 0)) % len(LETTERS)]


def initials_of(clicks: list[int | None]) -> str:
    """The three letters from the six click counts, as (up, down) per slot."""
    return "".join(letter(clicks[2 * i], clicks[2 * i + 1]) for i in SLOTS)


def save(scoreboard: Scoreboard, game_id: object, initials: str) -> tuple[str, str, bool]:
    """Put ``initials`` on the game: (message, alert colour, whether saving is done), the
    message in the visitor's language. Refused initials leave the picker usable, and the
    message never says why (repeating the word would put it on the screen after all)."""
    if not is_game_id(game_id):
        return _(UNKNOWN), "warning", True
    result = scoreboard.set_initials(game_id, initials)
    if result is InitialsSaved.REFUSED:
        return _(REFUSED), "warning", False
    if result is InitialsSaved.UNAVAILABLE:
        return _(UNAVAILABLE), "warning", False
    if result is InitialsSaved.NOT_FINISHED:
        return _(UNKNOWN), "warning", True
    log.info("initials saved", extra={"game": game_id})
    return _(SAVED).format(initials=initials), "success", True


def _slot(i: int) -> html.Div:
    return html.Div(className="initials-slot", children=[
        html.Button("▲", id=f"initials-up-{i}", className="btn",
                    **{"aria-label": _("Letter {n}: next").format(n=i + 1)}),
        html.Div(LETTERS[0], id=f"initials-letter-{i}", className="initials-letter",
                 **{"aria-live": "polite"}),
        html.Button("▼", id=f"initials-down-{i}", className="btn",
                    **{"aria-label": _("Letter {n}: previous").format(n=i + 1)}),
    ])


def component(game_id: str) -> html.Div:
    """The finish page's initials picker for the game ``game_id`` (a finished game's id): the
    question, three letter slots and "Save", and once saved the answer."""
    return html.Div(id="initials", className="initials", children=[
        dcc.Store(id="initials-game", data=game_id),
        html.P(_("Your initials for today's top 10?"), className="initials-ask"),
        html.Div(className="initials-slots", children=[_slot(i) for i in SLOTS]),
        dbc.Button(_("Save"), id="initials-save", color="success"),
        html.Div(id="initials-saved", className="initials-saved", **{"aria-live": "polite"}),
    ])


CLICKS = [(f"initials-{way}-{i}", "n_clicks") for i in SLOTS for way in ("up", "down")]


def register(app: Dash, scoreboard: Scoreboard) -> None:
    """Each slot follows its buttons; "Save" stores the three letters."""
    for i in SLOTS:
        @app.callback(Output(f"initials-letter-{i}", "children"),
                      Input(f"initials-up-{i}", "n_clicks"),
                      Input(f"initials-down-{i}", "n_clicks"),
                      prevent_initial_call=True)
        def show_letter(up: int | None, down: int | None) -> str:
            return letter(up, down)

    @app.callback(Output("initials-saved", "children"), Output("initials-save", "disabled"),
                  Input("initials-save", "n_clicks"), *(State(*c) for c in CLICKS),
                  State("initials-game", "data"), State("language", "data"),
                  prevent_initial_call=True)
    @in_language
    def save_initials(clicks: int | None, *values: object):
        if not clicks:
            raise PreventUpdate
        *counts, game_id = values
        message, colour, done = save(scoreboard, game_id, initials_of(counts))
        return dbc.Alert(message, color=colour, className="mb-0"), done
