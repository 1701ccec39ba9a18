"""``/attract``: the kiosk's screen between visitors. The AI at work on pool photos, where it
looked, the event's name and logo, and an invitation; a touch anywhere leads to the start
page, and a QR code in the corner to the game on one's own phone."""
from __future__ import annotations

from dash import Dash, Input, Output, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import components, qr
from dashboard.event.settings import Event
from dashboard.game import ATTRACT, HOME, Game, Round
from dashboard.i18n import _, in_language, percent
from dashboard.navigation import LANGUAGE, NAV, SESSION, Navigator
from dashboard.pages.home import QUESTION

PATH = ATTRACT

SLIDE_MS = 6000


def slide(rounds: list[Round], n: int) -> list:
    """One photo of the showcase: the photo, where the AI looked, and its guess."""
    if not rounds:
        return []
    shown = rounds[n % len(rounds)]
    car, score = shown.ai_top[0]
    right = car.class_name == shown.answer.class_name
    verdict = ("✔" if right else
               "✘ " + _("it is a {car}").format(car=shown.answer.class_name))
    return [
        html.Div(className="attract-images", children=[
            components.photo(shown, className="attract-img"),
            *([components.overlay(shown, className="attract-img")] if shown.overlay else []),
        ]),
        html.P([_("The AI says:"), " ", html.Strong(car.class_name), f" ({percent(score)}) ",
                html.Span(verdict, className="right" if right else "wrong")],
               className="attract-guess"),
    ]


def layout(rounds: list[Round], event: Event, codes: html.Div | None = None) -> html.Div:
    return html.Div(id="attract", n_clicks=0, role="button", className="attract", children=[
        components.event_banner(event),
        html.H1(_(QUESTION), className="headline"),
        html.Div(id="attract-slide", children=slide(rounds, 0)),
        html.P(_("Touch to play"), className="attract-cta"),
        *([codes] if codes is not None else []),  # the QR codes (dashboard/qr.py), in the corner
        dcc.Interval(id="attract-tick", interval=SLIDE_MS),
    ])


def view(nav: Navigator, _game: Game | None) -> html.Div:
    return layout(nav.games.showcase(), nav.event.current, qr.phone_codes(nav.settings))


def register(app: Dash, nav: Navigator) -> None:
    @app.callback(*NAV, Input("attract", "n_clicks"), SESSION, LANGUAGE,
                  prevent_initial_call=True)
    @in_language
    def touch_to_play(clicks: int | None, session_id: str):
        """The attract screen's touch: the start page, where the visitor picks a mode."""
        if not clicks:
            raise PreventUpdate
        return nav.render(session_id, HOME)

    @app.callback(Output("attract-slide", "children"),
                  Output("event-banner", "children", allow_duplicate=True),
                  Input("attract-tick", "n_intervals"), LANGUAGE, prevent_initial_call=True)
    @in_language
    def next_slide(n: int | None):
        """The next photo (the one on screen while none is ready), and the event's banner as
        the owner last set it."""
        rounds = nav.games.showcase()
        return (slide(rounds, n or 0) if rounds else no_update,
                components.event_identity(nav.event.current))
