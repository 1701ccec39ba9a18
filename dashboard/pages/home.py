"""``/``: the start page. The event's name and logo, the question, the rules in three short
lines, the modes the event offers, what is missing when a back-end is down (in a visitor's
words, cleared by itself), and in a corner the QR code to play on one's own phone. The event's
look follows the console within seconds."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html

from dashboard import components, qr
from dashboard.event.settings import Event
from dashboard.game import EASY, EXPERT, HOME, POINTS_EXACT, POINTS_MAKE, SHOW, Game
from dashboard.i18n import N_, _, in_language, ngettext
from dashboard.navigation import LANGUAGE, Navigator

MENU = N_("Play")
PATH = HOME

QUESTION = N_("Who knows cars better: you or the AI?")
# What a visitor reads when a back-end is missing: what it means for them, not its name.
MISSING = {
    "model": N_("The AI is taking a short break: new games start as soon as it is back."),
    "images": N_("The car photos are unavailable for a moment: new games start as soon as "
                 "they are back."),
    "explainer": N_("“Where the AI looked” is unavailable for a moment: you can play, the "
                    "results just won't show it."),
}


def status(missing: list[str], can_start: bool) -> list:
    """Which parts are missing, in a visitor's words; nothing when all is well."""
    lines = [html.P(_(MISSING[name]), className="mb-1", id=f"missing-{name}")
             for name in missing]
    if lines and not can_start:
        lines.append(html.P([dbc.Spinner(size="sm", spinner_class_name="me-2"),
                             _("This page updates by itself.")], className="mb-0"))
    return [dbc.Alert(lines, color="warning", className="d-inline-block")] if lines else []


def _mode_button(id_: str, name: str, how: str, can_start: bool, offered: bool,
                 ) -> html.Button:
    """A mode's button; one the event does not offer is left out of sight (its callbacks
    still find it)."""
    return html.Button([html.Span(name, className="mode-name"),
                        html.Span(how, className="mode-how")],
                       id=id_, disabled=not can_start, hidden=not offered,
                       className=f"btn mode-button {id_}")


def layout(missing: list[str], can_start: bool, event: Event,
           codes: html.Div | None = None) -> html.Div:
    rules = [_("Five photos of cars. Name each one, and so does the AI."),
             ngettext("The right make: {points} point.", "The right make: {points} points.",
                      POINTS_MAKE).format(points=POINTS_MAKE),
             ngettext("The exact car (make, model and year): {points} point.",
                      "The exact car (make, model and year): {points} points.",
                      POINTS_EXACT).format(points=POINTS_EXACT)]
    return html.Div(className="home page-center", children=[
        components.event_banner(event),
        html.H1(_(QUESTION), className="headline"),
        html.Ul([html.Li(rule) for rule in rules], className="rules"),
        html.Div(className="modes", children=[
            _mode_button("play-easy", _("Easy"), _("pick one of four"), can_start,
                         event.offers(EASY)),
            _mode_button("play", _("Expert"), _("make, then model"), can_start,
                         event.offers(EXPERT)),
        ]),
        dcc.Link(_("A group? Crowd vs AI: everyone plays on their own phone"), href=SHOW,
                 id="home-show", className="btn home-show"),
        html.Div(id="home-status", className="home-status",
                 children=status(missing, can_start)),
        html.Div(id="home-alert"),
        *([codes] if codes is not None else []),  # the QR codes (dashboard/qr.py), in the corner
        # the status follows the back-ends' health, the banner and modes the event's settings
        dcc.Interval(id="retry", interval=2000),
    ])


def view(nav: Navigator, _game: Game | None) -> html.Div:
    missing = nav.health.current.missing() if nav.health.checked() else []
    return layout(missing, nav.games.can_start(), nav.event.current,
                  qr.phone_codes(nav.settings))


def register(app: Dash, nav: Navigator) -> None:
    @app.callback(Output("home-status", "children"), Output("play", "disabled"),
                  Output("play-easy", "disabled"), Output("play", "hidden"),
                  Output("play-easy", "hidden"),
                  Output("event-banner", "children", allow_duplicate=True),
                  Input("retry", "n_intervals"), LANGUAGE, prevent_initial_call=True)
    @in_language
    def follow_health(_tick: int | None):
        can_start, event = nav.games.can_start(), nav.event.current
        return (status(nav.health.current.missing(), can_start), not can_start, not can_start,
                not event.offers(EXPERT), not event.offers(EASY),
                components.event_identity(event))
