"""``/finish``: who won, celebrated; the five rounds again with where the AI looked; how the
visitor did against today's players; initials for the wall; another game; and the result card
to take home (a PNG drawn on the server, dashboard/card.py, saved by the browser's download)."""
from __future__ import annotations

from datetime import date

from dash import Dash, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import card, components, initials
from dashboard.event.settings import Event
from dashboard.game import FINISH, Game, Round
from dashboard.i18n import N_, _, current, in_language, percent
from dashboard.navigation import LANGUAGE, SESSION, Navigator

PATH = FINISH

VERDICTS = {"you": N_("You win!"), "ai": N_("The AI wins!"), "draw": N_("It's a draw!")}
CONFETTI = 24  # pieces falling when the visitor wins (assets/game.css animates them)
COLOURS = ("var(--go)", "var(--you)", "var(--right)", "#f472b6")


def _recap_card(number: int, played: Round) -> html.Div:
    return html.Div(className="recap-card", children=[
        html.Div(className="recap-images", children=[
            components.photo(played, className="recap-img"),
            components.overlay(played, className="recap-img"),
        ]),
        html.Div(played.answer.class_name, className="recap-answer"),
        components.guess_line(_("You"), played.guess, played.answer, f"recap-you-{number}"),
        components.guess_line(_("AI"), played.ai_guess, played.answer, f"recap-ai-{number}"),
    ])


def layout(game: Game, beaten: float | None = None, picker: object = None) -> html.Div:
    """``beaten``: the share of today's players with fewer points (from the statistics);
    ``picker``: the initials that put the visitor on the wall."""
    you, ai = game.scores()
    winner = game.winner()
    party = ([html.Div(className="confetti", **{"aria-hidden": "true"}, children=[
        # spread over the width, falling one after another in a shuffled-looking order
        html.I(style={"left": f"{3 + 92 * n / (CONFETTI - 1):.1f}%",
                      "animationDelay": f"{(n * 7 % CONFETTI) * 0.07:.2f}s",
                      "background": COLOURS[n % len(COLOURS)]})
        for n in range(CONFETTI)])] if winner == "you" else [])
    return html.Div(className=f"finish winner-{winner}", children=[
        *party,
        html.Div(className="finish-top", children=[
            html.Div(className="finish-verdict", children=[
                html.H1(_(VERDICTS[winner]), id="verdict", className="verdict"),
                html.Div(className="final-score", children=[
                    html.Span([_("You"), " ", html.Strong(you, id="final-you")],
                              className="you"),
                    html.Span("–"),
                    html.Span([html.Strong(ai, id="final-ai"), " ", _("AI")], className="ai"),
                ]),
                html.P(_("You beat {share} of today's players.").format(share=percent(beaten))
                       if beaten is not None else "", id="beaten-share", className="beaten"),
            ]),
            picker,
            html.Div(className="finish-actions", children=[
                html.Button(_("Play again"), id="play", className="btn go play-again"),
                html.Button(_("Save your result card"), id="finish-card",
                            className="btn card-save"),
                dcc.Download(id="finish-card-download"),
            ]),
        ]),
        html.Div(id="recap", className="recap", children=[
            _recap_card(number, played) for number, played in enumerate(game.rounds, start=1)]),
        html.Div(id="home-alert"),
    ])


def view(nav: Navigator, game: Game | None) -> html.Div:
    assert game is not None
    return layout(game, nav.scoreboard.beaten_today(game.scores()[0]),
                  initials.component(game.id))


def result_card(game: Game, event: Event, day: date) -> bytes:
    """The finished ``game`` as a card (PNG) in the current language."""
    you, ai = game.scores()
    rounds = [card.CardRound(played.photo, *components.verdict(played.guess, played.answer),
                             caption=played.answer.class_name) for played in game.rounds]
    return card.result_card(you=you, ai=ai, verdict_text=_(VERDICTS[game.winner()]),
                            rounds=rounds, you_label=_("You"), ai_label=_("AI"),
                            title=_(components.TITLE), day=day, language=current(),
                            event_name=event.name, accent=event.accent)


def register(app: Dash, nav: Navigator) -> None:
    """The finish page's callbacks: the arcade initials' picker and "Save"; the result card."""
    initials.register(app, nav.scoreboard)

    @app.callback(Output("finish-card-download", "data"), Input("finish-card", "n_clicks"),
                  State("initials-game", "data"), SESSION, LANGUAGE, prevent_initial_call=True)
    @in_language
    def save_card(clicks: int | None, game_id: str, session_id: str):
        """The card of the finished game on screen (not of one begun since in another tab)."""
        game = nav.store.get(session_id) if clicks else None
        if game is None or not game.finished or game.id != game_id:
            raise PreventUpdate
        day = date.today()
        return dcc.send_bytes(result_card(game, nav.event.current, day),
                              f"beat-the-ai-{day.isoformat()}.png", type="image/png")
