"""``/finish``: who won, celebrated; the five rounds again with where the AI looked; how the
visitor did against today's players; initials for the wall; and another game."""
from __future__ import annotations

from dash import Dash, html

from dashboard import components, initials
from dashboard.game import FINISH, Game, Round
from dashboard.i18n import N_, _, percent
from dashboard.navigation import Navigator

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
            html.Button(_("Play again"), id="play", className="btn go play-again"),
        ]),
        html.Div(id="recap", className="recap", children=[
            _recap_card(number, played) for number, played in enumerate(game.rounds, start=1)]),
        html.Div(id="home-alert"),
    ])


def view(nav: Navigator, game: Game | None) -> html.Div:
    assert game is not None
    return layout(game, nav.scoreboard.beaten_today(game.scores()[0]),
                  initials.component(game.id))


def register(app: Dash, nav: Navigator) -> None:
    """The finish page's callbacks: the arcade initials' picker and "Save"."""
    initials.register(app, nav.scoreboard)
