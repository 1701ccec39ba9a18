"""``/join?code=…``: a phone in a crowd show. It joins with a nickname (or none), answers
each round with one of four big buttons, and sees its own result; the photo is on the big
screen. The phone keeps its place (``show-player``, in local storage): a phone that drops and
comes back, or reloads, carries on with its points. It asks where the show stands once a
second (``join-tick``) and redraws only when that changes.
"""
from __future__ import annotations

import time
from datetime import date
from urllib.parse import parse_qs

from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import card
from dashboard.components import TITLE
from dashboard.event.settings import Event
from dashboard.game import CHOICES, HOME, JOIN, Game, points
from dashboard.i18n import N_, _, current, in_language
from dashboard.navigation import LANGUAGE, Navigator
from dashboard.show.names import NameRefused
from dashboard.show.shows import Answered, Player, ShowClosed, Shows
from dashboard.show.timeline import (
    FINAL,
    LOBBY,
    NAME_LIMIT,
    OVER,
    QUESTION,
    REVEAL,
    Phase,
    Show,
    phase_at,
    rounds_played,
)

PATH = JOIN
TICK_MS = 1000
LETTERS = "ABCD"
FORM = "form"  # join-seen while the form is on screen: a tick leaves what is typed alone
BODY = Output("join-body", "children", allow_duplicate=True)
SEEN = Output("join-seen", "data", allow_duplicate=True)
ROUND = Output("join-round", "data", allow_duplicate=True)
PLAYER = State("show-player", "data")

NO_SHOW = N_("No show with this code is running. Check the code on the big screen.")
NOTES = {
    Answered.ALREADY: N_("You have answered this round already."),
    Answered.CLOSED: N_("Time is up for this round."),
    Answered.WAITING: N_("You play from the next round."),
    Answered.UNKNOWN: NO_SHOW,
}


def code_in(search: str | None) -> str:
    """The room code ``?code=`` carries, as the big screen writes it."""
    return parse_qs((search or "").lstrip("?")).get("code", [""])[-1].strip().upper()[:8]


def form(code: str, name: str = "", error: str | None = None) -> html.Div:
    return html.Div(className="join-form", children=[
        html.H1(_("Crowd vs AI"), className="headline"),
        html.P(_("Play along on the big screen: pick a name, or play without one."),
               className="join-lead"),
        html.Label(_("Room code"), htmlFor="join-code", className="join-label"),
        dcc.Input(id="join-code", value=code, maxLength=8, autoComplete="off",
                  className="form-control join-input join-code"),
        html.Label(_("Your name on the big screen"), htmlFor="join-name",
                   className="join-label"),
        dcc.Input(id="join-name", value=name, maxLength=NAME_LIMIT, autoComplete="nickname",
                  placeholder=_("up to 12 letters"), className="form-control join-input"),
        html.P(error, id="join-error", className="join-error", role="alert") if error else None,
        html.Button(_("Join"), id="join-go", className="btn go"),
        html.Button(_("Play without a name"), id="join-anon", className="btn back"),
    ])


def status(*lines: object) -> html.Div:
    return html.Div(list(lines), id="show-status", className="join-status")


def mine(show: Show, player: Player, phase: Phase, shows: Shows) -> html.Div:
    """The phone's own result: this round's at the reveal, its place at the end."""
    total = shows.points(show.code, player.id)
    if phase.kind == REVEAL:
        played = show.rounds[phase.round]
        answer = shows.mine(show.code, player.id, phase.round)
        if answer is not None and answer["choice"] == played.answer:
            head = html.H2(_("Right! +{points}").format(points=answer["points"]),
                           className="join-right")
        elif answer is not None:
            head = html.H2(_("Not this time."), className="join-wrong")
        else:
            head = html.H2(_("No answer this round."), className="join-wrong")
        return html.Div(id="show-mine", className="join-mine", children=[
            head, html.P(_("It is a {car}.").format(car=played.right.name)),
            html.P(_("Your points: {total}").format(total=total), className="join-total")])
    table = shows.standings(show.code)
    place = next((n for n, s in enumerate(table, 1) if s.number == player.number), len(table))
    return html.Div(id="show-mine", className="join-mine", children=[
        html.H2(_("{points} points").format(points=total), className="join-total"),
        html.P(_("Place {place} of {players}").format(place=place, players=len(table)),
               id="show-place"),
        html.P(_("Thanks for playing! The big screen shows the crowd against the AI.")),
        html.Button(_("Save your result card"), id="show-card", className="btn back"),
        dcc.Download(id="show-card-download"),
        html.A(_("Play a game of your own"), href=HOME, className="btn go"),
    ])


def show_card(shows: Shows, show: Show, player: Player, event: Event, day: date) -> bytes:
    """The phone's card: its answers scored as the game scores them (3 exact, 1 the make),
    against the AI's, on the rounds' photos; its place and its show points as the verdict."""
    game = shows.photos(show)
    you = ai = 0
    rounds = []
    for n in range(rounds_played(show, time.time())):
        played = show.rounds[n]
        mine = shows.mine(show.code, player.id, n)
        guess = played.choices[mine["choice"]] if mine else None
        you += points(guess, played.right)
        ai += points(played.ai[0][0], played.right)
        kind = ("exact" if guess == played.right else
                "make" if guess is not None and guess.make == played.right.make else "miss")
        rounds.append(card.CardRound(game.rounds[n].photo if game else b"", kind,
                                     f"+{mine['points']}" if mine else "+0",
                                     caption=played.right.name))
    table = shows.standings(show.code)
    place = next((n for n, s in enumerate(table, 1) if s.number == player.number), len(table))
    verdict = _("Place {place} of {players}").format(place=place, players=len(table))
    return card.result_card(you=you, ai=ai, verdict_text=verdict, rounds=rounds,
                            you_label=_("You"), ai_label=_("AI"), title=_(TITLE), day=day,
                            language=current(), event_name=event.name, accent=event.accent)


def choices(show: Show, phase: Phase, now: float) -> html.Div:
    played = show.rounds[phase.round]
    return html.Div(className="join-question", children=[
        html.P(_("Round {number}/{rounds}").format(number=phase.round + 1,
                                                   rounds=len(show.rounds)),
               className="chip round"),
        html.Div(className="join-timer", children=html.Div(
            className="join-timer-bar",
            style={"animationDuration": f"{max(0.0, phase.ends - now):.1f}s"})),
        html.H2(_("Which car is on the big screen?"), className="question"),
        html.Div(className="join-choices", children=[
            html.Button([html.Span(LETTERS[n], className="show-letter"), choice.name],
                        id=f"show-choice-{n}", className="btn choice")
            for n, choice in enumerate(played.choices)]),
    ])


def phone(shows: Shows, show: Show, player: Player, now: float, note: str | None = None,
          ) -> tuple[html.Div, str, int | None]:
    """(what the phone shows, its key, the round its buttons answer)."""
    phase = phase_at(show, now)
    answered = (shows.mine(show.code, player.id, phase.round)
                if phase.kind == QUESTION else None)
    key = f"{show.code}:{phase.key}:{answered is not None}"
    name = player.name or _("Player {number}").format(number=player.number)
    if phase.kind == LOBBY:
        body = status(html.H2(_("You're in!")),
                      html.P(_("You play as {name}.").format(name=name)),
                      html.P(_("Watch the big screen: the show starts soon.")))
    elif phase.kind == QUESTION and player.first > phase.round:
        body = status(html.H2(_("You're in!")), html.P(_("You play from the next round. "
                                                         "Watch this one on the big screen.")))
    elif phase.kind == QUESTION and answered is not None:
        choice = show.rounds[phase.round].choices[answered["choice"]]
        body = status(html.H2(_("Locked in: {letter}").format(
            letter=LETTERS[answered["choice"]])), html.P(choice.name),
            html.P(_("The answer comes on the big screen.")))
    elif phase.kind == QUESTION:
        body = choices(show, phase, now)
    elif phase.kind in (REVEAL, FINAL, OVER):  # over: its place, and its card, stay
        body = mine(show, player, phase, shows)
    else:
        body = status(html.H2(_("This show has ended.")),
                      html.A(_("Play a game of your own"), href=HOME, className="btn go"))
    notes = [html.P(note, id="join-note", className="join-error", role="status")] if note else []
    return (html.Div([*notes, body]), key,
            phase.round if phase.kind == QUESTION else None)


def view(_nav: Navigator, _game: Game | None) -> html.Div:
    """Filled at the first tick: the form, or the show this phone plays."""
    return html.Div(className="join", children=[
        dcc.Store(id="show-player", storage_type="local"),
        dcc.Store(id="join-seen"),
        dcc.Store(id="join-round"),
        dcc.Interval(id="join-tick", interval=TICK_MS),
        html.Div(id="join-body"),
    ])


def register(app: Dash, nav: Navigator) -> None:
    shows = nav.shows

    def placed(ref: dict | None) -> tuple[Show, Player] | None:
        show = shows.get(ref["code"]) if ref else None
        player = shows.player(show.code, ref["id"]) if show is not None else None
        return (show, player) if player is not None else None

    @app.callback(Output("join-body", "children"), Output("join-seen", "data"),
                  Output("join-round", "data"), Input("join-tick", "n_intervals"),
                  State("url", "search"), PLAYER, State("join-seen", "data"), LANGUAGE)
    @in_language
    def tick(_n: int | None, search: str | None, ref: dict | None, seen: str | None):
        code = code_in(search)
        here = placed(ref) if ref and (not code or ref["code"] == code) else None
        if here is not None:
            body, key, number = phone(shows, *here, time.time())
            if key == seen:
                raise PreventUpdate
            return body, key, number
        if seen == FORM:
            raise PreventUpdate
        return form(code), FORM, None

    @app.callback(Output("show-player", "data"), BODY, SEEN, ROUND,
                  Input("join-go", "n_clicks"), Input("join-anon", "n_clicks"),
                  State("join-code", "value"), State("join-name", "value"), LANGUAGE,
                  prevent_initial_call=True)
    @in_language
    def join(go: int | None, anon: int | None, code: str | None, name: str | None):
        if not (go or anon):
            raise PreventUpdate
        code = (code or "").strip().upper()
        nickname = None if ctx.triggered_id == "join-anon" else name
        try:
            player = shows.join(code, None, nickname)
        except NameRefused as refused:
            return no_update, form(code, name or "", _(str(refused))), FORM, None
        except ShowClosed:
            return no_update, form(code, name or "", _(NO_SHOW)), FORM, None
        show = shows.get(code)
        assert show is not None
        return {"code": show.code, "id": player.id}, *phone(shows, show, player, time.time())

    @app.callback(Output("show-card-download", "data"), Input("show-card", "n_clicks"), PLAYER,
                  LANGUAGE, prevent_initial_call=True)
    @in_language
    def save_card(clicks: int | None, ref: dict | None):
        """The phone's card, once its show has come to its end (drawn on the server)."""
        here = placed(ref) if clicks else None
        if here is None or phase_at(here[0], time.time()).kind not in (FINAL, OVER):
            raise PreventUpdate
        day = date.today()
        return dcc.send_bytes(show_card(shows, *here, nav.event.current, day),
                              f"beat-the-ai-show-{day.isoformat()}.png", type="image/png")

    @app.callback(BODY, SEEN, ROUND, *(Input(f"show-choice-{n}", "n_clicks")
                                       for n in range(CHOICES)),
                  PLAYER, State("join-round", "data"), LANGUAGE, prevent_initial_call=True)
    @in_language
    def answer(*args):
        """The touched choice is the phone's answer to the round its buttons were drawn for."""
        *clicks, ref, number = args
        picked = ctx.triggered_id
        if not any(clicks) or not isinstance(picked, str) or ref is None or number is None:
            raise PreventUpdate
        result = shows.answer(ref["code"], ref["id"], number,
                              int(picked.removeprefix("show-choice-")))
        here = placed(ref)
        if here is None:
            return form(ref["code"], error=_(NO_SHOW)), FORM, None
        note = None if result is Answered.COUNTED else _(NOTES[result])
        return phone(shows, *here, time.time(), note)
