"""``/show``: Crowd vs AI on the big screen. Everyone in front of it plays from their phone.

The lobby shows a room code and a QR code that opens ``/join`` on a phone. Then five rounds:
the photo, four choices and a countdown, and how many phones have answered, live; the reveal:
the answer, the crowd's votes beside the AI's top 5, and where the AI looked. Then the crowd
(its majority answer per round) against the AI, and the top three phones. The page asks the
show where it stands twice a second (``show-tick``); the show's clock decides, not the page.
A show nobody joins, or one that is over, gives the screen back to the attract screen.
"""
from __future__ import annotations

import time

import flask
from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import components
from dashboard.errors import json_error
from dashboard.game import ATTRACT, SHOW, Car, Game, points
from dashboard.i18n import N_, _, current, in_language, ngettext, percent
from dashboard.navigation import LANGUAGE, SESSION, URL, Navigator
from dashboard.qr import phone_url, qr_image, typed
from dashboard.show.shows import Shows, Standing
from dashboard.show.timeline import (
    EMPTY,
    FINAL,
    LOBBY,
    OVER,
    QUESTION,
    REVEAL,
    Phase,
    Show,
    ShowRound,
    majority,
    phase_at,
    rounds_played,
)

PATH = SHOW
MENU = N_("Crowd vs AI")
TICK_MS = 500  # the reveal is on screen at most this long after the countdown ends
LETTERS = "ABCD"
PHOTO_ROUTE = "/show-photo/<code>/<int:number>/<kind>.jpg"


def player_name(standing: Standing) -> str:
    return standing.name or _("Player {number}").format(number=standing.number)


def seconds_left(phase: Phase, now: float) -> str:
    return f"{max(0, int(phase.ends - now + 0.999))}"


def photo_src(show: Show, number: int, kind: str) -> str:
    return f"/show-photo/{show.code}/{number}/{kind}.jpg"


def lobby(show: Show, phase: Phase, now: float, url: str, standings: list[Standing]) -> list:
    joined = len(standings)
    names = [html.Span(player_name(s), className="show-name") for s in standings[-24:]]
    wait = (_("Round 1 starts in {seconds} s.") if joined else
            _("Waiting for phones… ({seconds} s)")).format(seconds=seconds_left(phase, now))
    return [
        html.H1(_("Crowd vs AI"), className="headline show-title"),
        html.P(_("Everyone plays! Scan the code with your phone's camera, or open the address "
                 "and type the room code."), className="show-invite"),
        html.Div(className="show-lobby", children=[
            qr_image(url, _("QR code to join the show"), id="show-qr", className="show-qr"),
            html.Div(className="show-room", children=[
                html.Span(_("Room code"), className="show-room-label"),
                html.Strong(show.code, id="show-code", className="show-code"),
                html.Span(typed(url), className="show-url"),
                html.P(ngettext("{n} phone has joined", "{n} phones have joined", joined)
                       .format(n=joined), id="show-joined", className="show-joined"),
                html.Div(names, className="show-names"),
                html.P(wait, id="show-wait", className="show-wait"),
                html.Button(_("Start now"), id="show-start", className="btn go",
                            disabled=not joined),
            ]),
        ]),
    ]


def choices_list(played: ShowRound, votes: list[int] | None = None) -> html.Ol:
    """The four choices, lettered as on the phones; at the reveal with the crowd's votes."""
    total = sum(votes or [])
    items = []
    for n, choice in enumerate(played.choices):
        right = votes is not None and n == played.answer
        row = [html.Span(LETTERS[n], className="show-letter"),
               html.Span(choice.name, className="show-choice-name")]
        if votes is not None:
            share = votes[n] / total if total else 0.0
            row += [html.Div(className="top5-track", children=html.Div(
                        className="top5-bar", style={"width": f"{share * 100:.1f}%"})),
                    html.Span(f"{votes[n]} · {percent(share)}", className="show-votes")]
        items.append(html.Li(row, className="show-choice" + (" right" if right else "")))
    return html.Ol(items, className="show-choices")


def question(show: Show, phase: Phase, now: float, answered: int) -> list:
    played = show.rounds[phase.round]
    playing = show.playing(phase.round)
    return [
        html.Div(className="show-bar", children=[
            html.Span(_("Round {number}/{rounds}").format(
                number=phase.round + 1, rounds=len(show.rounds)), className="chip round"),
            html.Strong(seconds_left(phase, now), id="show-clock", className="show-clock"),
            html.Span(_("{answered} of {playing} answered").format(
                answered=answered, playing=playing), id="show-answered",
                className="chip show-answered"),
        ]),
        html.Div(className="show-question", children=[
            html.Img(src=photo_src(show, phase.round, "photo"), alt=_("The car to name"),
                     className="show-photo"),
            html.Div([html.H2(_("Which car is this? Answer on your phone."),
                              className="question"), choices_list(played)],
                     className="show-side"),
        ]),
    ]


def ai_top(played: ShowRound) -> list[tuple[Car, float]]:
    return [(Car(c.name, c.make, "", 0), p) for c, p in played.ai]


def reveal(show: Show, phase: Phase, votes: list[int], explained: bool) -> list:
    played = show.rounds[phase.round]
    crowd = majority(votes)
    crowd_points = points(played.choices[crowd] if crowd is not None else None, played.right)
    ai_points = points(played.ai[0][0], played.right)
    overlay = (html.Img(src=photo_src(show, phase.round, "overlay"),
                        alt=_("Where the AI looked"), className="show-photo")
               if explained else html.Div(_("Explanation unavailable"),
                                          className="overlay-missing show-photo"))
    return [
        html.Div(className="show-bar", children=[
            html.Span(_("Round {number}/{rounds}").format(
                number=phase.round + 1, rounds=len(show.rounds)), className="chip round"),
            html.Div([html.Span(_("The answer"), className="answer-label"),
                      html.Span(played.right.name, className="answer-name")],
                     id="show-answer", className="answer"),
        ]),
        html.Div(className="show-reveal", children=[
            html.Div(className="show-pictures", children=[
                components.figure(html.Img(src=photo_src(show, phase.round, "photo"),
                                           alt=_("The photo"), className="show-photo"),
                                  _("The photo"), "show-box-photo"),
                components.figure(overlay, _("Where the AI looked"), "show-box-gradcam"),
                components.gradcam_legend(),
            ]),
            html.Div(id="show-crowd", className="show-crowd", children=[
                html.H2([_("The crowd"), html.Span(f" +{crowd_points}", className="show-plus")],
                        className="box-title"),
                choices_list(played, votes),
                html.P(ngettext("{n} answer", "{n} answers", sum(votes)).format(n=sum(votes)),
                       className="share"),
            ]),
            html.Div(id="show-ai", className="top5-box", children=[
                html.H2([_("The AI's top 5"), html.Span(f" +{ai_points}", className="show-plus")],
                        className="box-title"),
                components.top5(ai_top(played), Car(played.right.name, played.right.make, "", 0),
                                id_="show-top5"),
            ]),
        ]),
    ]


def final(show: Show, shows: Shows, now: float) -> list:
    crowd = ai = 0
    for i in range(rounds_played(show, now)):
        played = show.rounds[i]
        votes = shows.votes(show.code, i)
        pick = majority(votes)
        crowd += points(played.choices[pick] if pick is not None else None, played.right)
        ai += points(played.ai[0][0], played.right)
    verdict = (_("The crowd beats the AI!") if crowd > ai else
               _("The AI beats the crowd.") if ai > crowd else _("A draw!"))
    top = shows.standings(show.code)[:3]
    return [html.Div(id="show-final", className="show-final", children=[
        html.H1(verdict, className="headline"),
        html.Div(className="show-score", children=[
            html.Span([_("The crowd"), " ", html.Strong(crowd, id="show-final-crowd")],
                      className="chip you"),
            html.Span([_("The AI"), " ", html.Strong(ai, id="show-final-ai")],
                      className="chip ai")]),
        html.H2(_("Top phones"), className="box-title"),
        html.Ol(id="show-top", className="show-top", children=[
            html.Li([html.Span(player_name(s), className="show-top-name"),
                     html.Strong(f"{s.points}", className="show-top-points")])
            for s in top]),
        html.Button(_("New show"), id="show-again", className="btn go"),
    ])]


def stage(nav: Navigator, show: Show, now: float) -> list:
    phase = phase_at(show, now)
    shows = nav.shows
    if phase.kind == LOBBY:
        return lobby(show, phase, now, phone_url(nav.settings, "/join", code=show.code),
                     shows.standings(show.code))
    if phase.kind == QUESTION:
        return question(show, phase, now, shows.answered(show.code, phase.round))
    if phase.kind == REVEAL:
        game = shows.photos(show)
        return reveal(show, phase, shows.votes(show.code, phase.round),
                      game is not None and game.rounds[phase.round].overlay is not None)
    return final(show, shows, now)


def layout() -> html.Div:
    """The stage fills at the first tick (it opens the screen's show, or picks it up)."""
    return html.Div(className="show", children=[
        dcc.Store(id="show-id"),
        dcc.Interval(id="show-tick", interval=TICK_MS),
        html.Div(components.spinner_heading(_("Preparing the show…")), id="show-stage"),
    ])


def view(_nav: Navigator, _game: Game | None) -> html.Div:
    return layout()


def register(app: Dash, nav: Navigator) -> None:
    shows = nav.shows

    @app.callback(Output("show-stage", "children"), Output("show-id", "data"), URL,
                  Input("show-tick", "n_intervals"), State("show-id", "data"), SESSION,
                  LANGUAGE, prevent_initial_call="initial_duplicate")
    @in_language
    def tick(_n: int | None, code: str | None, session_id: str):
        """Where the show stands now; the screen's show opens at the first tick."""
        now = time.time()
        show = shows.get(code) if code else None
        if show is None:
            show = shows.for_screen(session_id, current(), now)
            if show is None:  # no game ready for its photos yet: the next tick asks again
                raise PreventUpdate
        kind = phase_at(show, now).kind
        if kind in (FINAL, OVER, EMPTY):
            shows.record(show, now)
        if kind in (OVER, EMPTY):
            return no_update, None, ATTRACT
        return stage(nav, show, now), show.code, no_update

    @app.callback(Output("show-start", "disabled"), Input("show-start", "n_clicks"),
                  State("show-id", "data"), prevent_initial_call=True)
    def start(clicks: int | None, code: str | None) -> bool:
        """Round 1 now, not at the lobby's end (the next tick shows it)."""
        if not clicks or not code:
            raise PreventUpdate
        shows.start(code)
        return True

    @app.callback(Output("show-id", "data", allow_duplicate=True),
                  Input("show-again", "n_clicks"), State("show-id", "data"),
                  prevent_initial_call=True)
    def again(clicks: int | None, code: str | None) -> None:
        """A new show at once (the final table has been seen)."""
        if not clicks or not code:
            raise PreventUpdate
        shows.end(code)

    @app.server.get(PHOTO_ROUTE)
    def photo(code: str, number: int, kind: str) -> flask.Response:
        """A round's photo, or where the AI looked, once its round is on screen."""
        show = shows.get(code)
        game = shows.photos(show) if show is not None and kind in ("photo", "overlay") else None
        phase = phase_at(show, time.time()) if show is not None else None
        if (game is None or phase is None or not 0 <= number < len(game.rounds)
                or (phase.kind in (LOBBY, QUESTION, REVEAL) and number > phase.round)):
            return json_error(404, "no such photo")
        played = game.rounds[number]
        data = played.photo if kind == "photo" else played.overlay
        if data is None:
            return json_error(404, "no such photo")
        return flask.Response(data, mimetype="image/jpeg",
                              headers={"Cache-Control": "private, max-age=3600"})
