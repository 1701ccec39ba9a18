"""``/attract``: the kiosk's screen between visitors. The AI at work on pool photos, where it
looked, and an invitation; a touch anywhere leads to the start page."""
from __future__ import annotations

from dash import Dash, Input, Output, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import components
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


def layout(rounds: list[Round]) -> html.Div:
    return html.Div(id="attract", n_clicks=0, role="button", className="attract", children=[
        html.H1(_(QUESTION), className="headline"),
        html.Div(id="attract-slide", children=slide(rounds, 0)),
        html.P(_("Touch to play"), className="attract-cta"),
        dcc.Interval(id="attract-tick", interval=SLIDE_MS),
    ])


def view(nav: Navigator, _game: Game | None) -> html.Div:
    return layout(nav.games.showcase())


def register(app: Dash, nav: Navigator) -> None:
    @app.callback(*NAV, Input("attract", "n_clicks"), SESSION, LANGUAGE,
                  prevent_initial_call=True)
    @in_language
    def touch_to_play(clicks: int | None, session_id: str):
        """The attract screen's touch: the start page, where the visitor picks a mode."""
        if not clicks:
            raise PreventUpdate
        return nav.render(session_id, HOME)

    @app.callback(Output("attract-slide", "children"), Input("attract-tick", "n_intervals"),
                  LANGUAGE, prevent_initial_call=True)
    @in_language
    def next_slide(n: int | None):
        rounds = nav.games.showcase()
        if not rounds:
            raise PreventUpdate
        return slide(rounds, n or 0)
