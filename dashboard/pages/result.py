"""``/result``: the answer revealed. The photo and where the AI looked, large and side by
side; both guesses with their points; the AI's top 5; how other visitors did on this photo."""
from __future__ import annotations

from dash import Dash, Input, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import components
from dashboard.game import ATTEMPT, RESULT, Game
from dashboard.i18n import _, in_language, percent
from dashboard.navigation import LANGUAGE, NAV, SESSION, Navigator

PATH = RESULT


def share_right(share: float | None) -> str:
    """How other visitors did on this photo (from the statistics)."""
    if share is None:
        return _("You are the first visitor to see this photo.")
    return _("{share} of visitors named this car exactly.").format(share=percent(share))


def layout(game: Game, share: float | None = None) -> html.Div:
    """``share``: of the visitors who saw this photo before, the share who named it exactly."""
    played = game.round
    assert played is not None
    last = game.current == len(game.rounds) - 1
    return html.Div(className="result", children=[
        dcc.Store(id="round-index", data=game.current),
        html.Div(className="result-images", children=[
            components.figure(components.photo(played, className="result-img"),
                              _("The photo"), "box-photo"),
            components.figure(components.overlay(played, id="overlay", className="result-img"),
                              _("Where the AI looked"), "box-gradcam"),
            components.gradcam_legend(),
        ]),
        html.Div(className="result-side", children=[
            html.Div(id="box-guesses", className="guesses", children=[
                html.Div([html.Span(_("The answer"), className="answer-label"),
                          html.Span(played.answer.class_name, className="answer-name")],
                         id="answer", className="answer"),
                components.guess_line(_("You"), played.guess, played.answer, "your-guess"),
                components.guess_line(_("The AI"), played.ai_guess, played.answer, "ai-guess"),
                html.P(share_right(share), id="photo-share", className="share"),
            ]),
            html.Div(id="box-top5", className="top5-box", children=[
                html.H2(_("The AI's top 5"), className="box-title"),
                components.top5(played.ai_top, played.answer),
            ]),
            html.Button(_("See who won") if last else _("Next round"), id="next",
                        className="btn go"),
        ]),
    ])


def view(nav: Navigator, game: Game | None) -> html.Div:
    assert game is not None and game.round is not None
    return layout(game, nav.scoreboard.share_right(game.round.source))


def register(app: Dash, nav: Navigator) -> None:
    @app.callback(*NAV, Input("next", "n_clicks"), State("round-index", "data"), SESSION,
                  LANGUAGE, prevent_initial_call=True)
    @in_language
    def next_round(clicks: int | None, index: int, session_id: str):
        if not clicks:
            raise PreventUpdate
        if nav.store.update(session_id, lambda game: game.next_round(index)):
            game = nav.store.get(session_id)
            if game is not None and game.finished:
                nav.scoreboard.finished(game)
        return nav.render(session_id, ATTEMPT)  # the state decides: next attempt, or finish
