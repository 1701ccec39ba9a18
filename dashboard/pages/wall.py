"""``/stats``, made for the wall: Humans vs AI all time and today, today's top 10, the cars
that fool visitors and the AI, and how the AI did on visitors' own photos, in numbers big
enough to read from 3 m on a 1920×1080 screen.

It reads only the statistics database (a few aggregate queries, milliseconds), never a
service, and refreshes itself every ``REFRESH_MS``; if the database fails, the wall keeps the
numbers it shows.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html
from dash.exceptions import PreventUpdate
from sqlalchemy.exc import SQLAlchemyError

from dashboard import components, qr
from dashboard.event.settings import Event
from dashboard.game import STATS, Game
from dashboard.i18n import N_, _, decimal, in_language, ngettext, percent
from dashboard.navigation import LANGUAGE, Navigator
from dashboard.scoreboard import WallReads
from dashboard.stats import CarMisses, TopEntry

MENU = N_("Humans vs AI")
PATH = STATS

log = logging.getLogger(__name__)
REFRESH_MS = 5000
TOP_N = 10
FOOLING_N = 5
PANELS = ("stats-all", "stats-today", "stats-top", "stats-crowd", "stats-fooling")


@dataclass(frozen=True)
class Match:
    """Humans vs AI over a set of finished games, as the wall shows it."""
    games: int
    human_per_round: float
    ai_per_round: float
    human_wins: float  # shares of the games
    ai_wins: float
    draws: float

    @classmethod
    def of(cls, totals: dict[str, int], rounds: int) -> Match:
        games = totals["games"]

        def share(n: int) -> float:
            return n / games if games else 0.0

        def per_round(points: int) -> float:
            return points / rounds if rounds else 0.0

        return cls(games, per_round(totals["human_points"]), per_round(totals["ai_points"]),
                   share(totals["human_wins"]), share(totals["ai_wins"]), share(totals["draws"]))


def today() -> date:
    """The statistics' day: games count on the UTC day they ended."""
    return datetime.now(UTC).date()


def _match(stats: WallReads, day: date | None) -> Match:
    return Match.of(stats.totals(day), stats.rounds(day))


def _number(value: str, label: str, colour: str, id_: str) -> html.Div:
    return html.Div(className="text-center", children=[
        html.Div(value, id=id_, className=f"wall-number text-{colour}"),
        html.Div(label, className="wall-label"),
    ])


def match_panel(title: str, match: Match, key: str) -> list:
    """Games played, points per round for each side, and who wins how often."""
    if not match.games:
        return [html.H2(title, className="wall-title"),
                html.P(_("No games yet: be the first!"), className="wall-text my-4")]
    return [
        html.H2([title, html.Span([" · ", html.Span(match.games, id=f"{key}-games"), " ",
                                   ngettext("game", "games", match.games)],
                                  className="text-body-secondary")], className="wall-title"),
        html.Div(_("Points per round"), className="wall-label mt-2"),
        html.Div(className="d-flex justify-content-around", children=[
            _number(decimal(match.human_per_round), _("Humans"), "primary", f"{key}-human-ppr"),
            _number(decimal(match.ai_per_round), _("AI"), "danger", f"{key}-ai-ppr"),
        ]),
        html.Div(_("Who wins"), className="wall-label mt-3"),
        html.Div(className="wall-share d-flex justify-content-around gap-3", children=[
            _number(percent(match.human_wins), _("Humans"), "primary", f"{key}-human-wins"),
            _number(percent(match.ai_wins), _("AI"), "danger", f"{key}-ai-wins"),
            _number(percent(match.draws), _("Draws"), "body-secondary", f"{key}-draws"),
        ]),
    ]


def top_panel(entries: list[TopEntry]) -> list:
    """Today's best games with initials: rank, initials, points against the AI's (``panels``
    leaves out what the blocklist refuses, entries stored before it included)."""
    title = html.H2(_("Today's top 10"), className="wall-title")
    if not entries:
        return [title, html.P(_("No initials yet today: play and put yours here!"),
                              className="wall-text my-4")]
    rows = [html.Tr([html.Td(f"{rank}.", className="text-body-secondary"),
                     html.Td(e.initials, className="wall-initials"),
                     html.Td(e.human_points, className="text-primary text-end"),
                     html.Td(e.ai_points, className="text-danger text-end")])
            for rank, e in enumerate(entries, start=1)]
    return [title, dbc.Table(className="wall-table mb-0", borderless=True, size="sm", children=[
        html.Thead(html.Tr([html.Th(""), html.Th(_("Player")),
                            html.Th(_("Points"), className="text-end"),
                            html.Th(_("AI"), className="text-end")])),
        html.Tbody(rows),
    ])]


def crowd_panel(shows: dict[str, int]) -> list:
    """Crowd vs AI (the shows on the big screen, pages/show.py), counted apart from the
    games, in one line: the shows won by the crowd against those won by the AI, like a
    score, and how many shows and phones that took."""
    if not shows["shows"]:
        return [html.H3([_("Crowd vs AI"), html.Span(" · " + _("no show yet"),
                                                    className="wall-label")],
                        className="wall-subtitle mb-0")]
    count = ngettext("{shows} show, {phones} phones", "{shows} shows, {phones} phones",
                     shows["shows"]).format(shows=shows["shows"], phones=shows["phones"])
    return [html.H3(className="wall-subtitle mb-0", children=[
        _("Crowd vs AI"), " ",
        html.Strong(shows["crowd_wins"], id="crowd-wins", className="text-primary"), " : ",
        html.Strong(shows["ai_wins"], id="crowd-ai-wins", className="text-danger"),
        html.Span(f" · {count}", className="wall-label")])]


def _misses(title: str, cars: list[CarMisses], id_: str) -> html.Div:
    """The cars (picked by how often they were missed), listed by the share shown."""
    items = [html.Li(className="d-flex justify-content-between gap-3", children=[
        html.Span(c.class_name), html.Strong(percent(c.share), className="text-nowrap")])
        for c in sorted(cars, key=lambda c: -c.share)]
    return html.Div(id=id_, children=[
        html.H3(title, className="wall-subtitle"),
        html.Ol(items, className="wall-list") if items else
        html.P(_("Nothing yet."), className="wall-text"),
    ])


def uploads(verdicts: dict[str, int]) -> html.Div:
    """How visitors judged the AI on their own photos (``/upload``'s "Was the AI right?")."""
    judged = verdicts["right"] + verdicts["wrong"]
    line = (ngettext("Right on {right} of {count} photo ({share})",
                     "Right on {right} of {count} photos ({share})", judged).format(
                right=verdicts["right"], count=judged, share=percent(verdicts["right"] / judged))
            if judged else _("No photos judged yet."))
    return html.Div(id="stats-uploads", children=[
        html.H3(_("The AI on visitors' own photos"), className="wall-subtitle"),
        html.P(line, className="wall-text mb-0")])


def fooling_panel(visitors: list[CarMisses], ai: list[CarMisses],
                  verdicts: dict[str, int]) -> list:
    """The cars guessed wrong most often, with the share of tries that got them wrong; and
    how the AI did on visitors' own photos, by their verdicts."""
    return [html.H2(_("The trickiest cars"), className="wall-title"),
            html.P(_("share of guesses that were wrong"), className="wall-label mb-2"),
            _misses(_("For visitors"), visitors, "fooling-visitors"),
            _misses(_("For the AI"), ai, "fooling-ai"),
            uploads(verdicts)]


def panels(stats: WallReads, day: date, allows: Callable[[str], bool],
           ) -> tuple[list, list, list, list, list]:
    """The panels' contents, in ``PANELS`` order, for the wall on ``day``; the top 10 shows
    only initials the blocklist ``allows``."""
    fooling = stats.fooling(FOOLING_N)
    return (match_panel(_("All time"), _match(stats, None), "all"),
            match_panel(_("Today"), _match(stats, day), "today"),
            top_panel(stats.top(day, TOP_N, keep=allows)),
            crowd_panel(stats.show_totals()),
            fooling_panel(fooling.visitors, fooling.ai, stats.upload_verdicts()))


def refresh(stats: WallReads, day: date, allows: Callable[[str], bool],
            ) -> tuple[list, list, list, list, list]:
    """The refresh callback's work; a failing database keeps the numbers on the wall."""
    try:
        return panels(stats, day, allows)
    except SQLAlchemyError:
        log.warning("statistics unavailable: the wall keeps its numbers")
        raise PreventUpdate from None


def layout(stats: WallReads, allows: Callable[[str], bool], event: Event,
           codes: html.Div | None = None) -> html.Div:
    """The page body: the event's banner and the title, then three columns filling a
    1920×1080 screen, no scrolling."""
    try:
        contents = panels(stats, today(), allows)
    except SQLAlchemyError:
        log.warning("statistics unavailable: the wall starts empty and retries")
        unavailable = [html.P(_("One moment…"), className="wall-text")]
        contents = (unavailable, [], [], [], [])
    card = "wall-card shadow-sm"
    shown = dict(zip(PANELS, contents, strict=True))
    all_time, today_, fooling = (dbc.Card(dbc.CardBody(shown[id_], id=id_), className=card)
                                 for id_ in ("stats-all", "stats-today", "stats-fooling"))
    # Crowd vs AI at the foot of the top 10's card, where its table leaves room
    top = dbc.Card(dbc.CardBody(className="d-flex flex-column", children=[
        html.Div(shown["stats-top"], id="stats-top"),
        html.Div(shown["stats-crowd"], id="stats-crowd", className="wall-crowd mt-auto")]),
        className=card)
    return html.Div(id="wall", className="wall", children=[
        html.Div(className="wall-top", children=[
            components.event_banner(event),
            html.H1(_("Humans vs AI, live"), className="wall-headline"),
            *([codes] if codes is not None else []),  # the QR codes (dashboard/qr.py), on the right
        ]),
        dbc.Row(className="g-4 flex-grow-1", children=[
            dbc.Col(md=4, className="d-flex flex-column gap-4", children=[all_time, today_]),
            dbc.Col(md=3, children=top),
            dbc.Col(md=5, children=fooling),
        ]),
        dcc.Interval(id="stats-tick", interval=REFRESH_MS),
    ])


def view(nav: Navigator, _game: Game | None) -> html.Div:
    return layout(nav.scoreboard.reads, nav.scoreboard.allows, nav.event.current,
                  qr.phone_codes(nav.settings))


def register(app: Dash, nav: Navigator) -> None:
    """The wall's refresh: every ``REFRESH_MS``, from the database only (the event's banner
    from memory)."""
    stats = nav.scoreboard.reads

    @app.callback(*(Output(id_, "children") for id_ in PANELS),
                  Output("event-banner", "children", allow_duplicate=True),
                  Input("stats-tick", "n_intervals"), LANGUAGE, prevent_initial_call=True)
    @in_language
    def refresh_wall(_tick: int | None):
        return (*refresh(stats, today(), nav.scoreboard.allows),
                components.event_identity(nav.event.current))
