"""Pieces several pages use, written once: the header, photos, the verdict of a guess, the
top-5 bars and the Grad-CAM legend. Components only: no callbacks, no I/O."""
from __future__ import annotations

import base64

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.event.settings import Event
from dashboard.game import EASY, EXPERT, POINTS_EXACT, POINTS_MAKE, Car, Game, Round
from dashboard.guard import new_session_id
from dashboard.i18n import LANGUAGES, N_, NAMES, _, current, percent

TITLE = N_("Beat the AI — Car Edition")
MODE_NAMES = {EASY: N_("Easy"), EXPERT: N_("Expert")}
POLL_MS = 500  # how often a page waiting for a game asks again


def shell(language: str) -> html.Div:
    """The page around every page, made per page load: a session id minted here unless the
    tab already has one, and the language the visitor starts in (``dcc.Store`` in session
    storage keeps both across refreshes; the kiosk's idle reset clears them for the next
    visitor)."""
    return html.Div([
        dcc.Location(id="url", refresh="callback-nav"),
        dcc.Store(id="session", storage_type="session", data=new_session_id()),
        dcc.Store(id="language", storage_type="session", data=language),
        dcc.Store(id="html-lang"),  # <html lang>, as last set (navigation)
        dcc.Store(id="rendered"),  # the path whose page is on screen (navigation.RENDERED)
        html.Header(id="header", className="site-header"),
        html.Main(id="page", className="site-page"),
    ])


def language_switch() -> html.Button:
    """One touch switches to the other language; the button names it in its own words."""
    other = next(lang for lang in LANGUAGES if lang != current())
    return html.Button(NAMES[other], id="lang", lang=other, className="btn lang-switch",
                       **{"aria-label": NAMES[other]})


def menu(links: list[tuple[str, str]], here: str | None) -> html.Nav:
    """The pages outside the game, each a link (``label`` translated here)."""
    return html.Nav(id="menu", className="menu", **{"aria-label": _("Pages")}, children=[
        dcc.Link(_(label), href=path, className="menu-link" + (" here" if path == here else ""))
        for path, label in links])


def header(game: Game | None, links: list[tuple[str, str]] = (), here: str | None = None,
           ) -> html.Div:
    """The title and the language switch; during a game also the scores, the mode, the round
    and a way out ("New game"); outside a game, the menu of ``links`` (none in kiosk mode)."""
    items: list = [html.Div(_(TITLE), className="site-title me-auto")]
    if game is None and links:
        items.append(menu(list(links), here))
    if game is not None:
        you, ai = game.scores()
        number = min(game.current + 1, len(game.rounds))
        items += [
            html.Span([_("You"), " ", html.Strong(you, id="score-you")], className="chip you"),
            html.Span([_("AI"), " ", html.Strong(ai, id="score-ai")], className="chip ai"),
            html.Span(_(MODE_NAMES[game.mode]), id="mode-label", className="chip mode"),
            html.Span(_("Round {number}/{rounds}").format(number=number, rounds=len(game.rounds)),
                      id="round-label", className="chip round"),
            html.Button(_("New game"), id="new-game", className="btn btn-outline-light chip-btn"),
        ]
    return html.Div(className="site-header-row", children=[*items, language_switch()])


LOGO_PATH = "/event/logo/"  # + the logo's digest + ".png" (served by dashboard/event/web.py)


def event_identity(event: Event) -> list:
    """The event's logo and name in its accent colour, as the start page, the attract screen
    and the wall show them; nothing when the owner has set neither."""
    parts = []
    if event.logo:
        parts.append(html.Img(src=f"{LOGO_PATH}{event.logo}.png", id="event-logo",
                              className="event-logo", alt=event.name or _("The exhibitor's logo")))
    if event.name:
        parts.append(html.Span(event.name, id="event-name", className="event-name",
                               style={"color": event.accent} if event.accent else None))
    return parts


def event_banner(event: Event) -> html.Div:
    """``event_identity`` in the box its page refreshes (``event-banner``)."""
    return html.Div(event_identity(event), id="event-banner", className="event-banner")


def image(data: bytes, alt: str, **kwargs) -> html.Img:
    return html.Img(src="data:image/jpeg;base64," + base64.b64encode(data).decode(), alt=alt,
                    **kwargs)


def photo(played: Round, **kwargs) -> html.Img:
    return image(played.photo, _("The car to name"), **kwargs)


def overlay(played: Round, **kwargs) -> html.Img | html.Div:
    """Where the AI looked, or a plain placeholder when the explainer could not draw it."""
    if played.overlay:
        return image(played.overlay, _("Where the AI looked"), **kwargs)
    named = {"id": kwargs["id"] + "-missing"} if "id" in kwargs else {}  # ids stay unique
    return html.Div(_("Explanation unavailable"), **named,
                    className="overlay-missing " + kwargs.get("className", ""))


def figure(picture: object, caption: str, id: str) -> html.Figure:
    """A picture with its caption under it: the photo, or where the AI looked."""
    return html.Figure(id=id, className="result-figure",
                       children=[picture, html.Figcaption(caption)])


def gradcam_legend() -> html.Div:
    """The overlay's colours in plain words."""
    return html.Div(className="gradcam-legend", children=[
        html.Span(_("red: where the AI looked most"), className="legend-hot"),
        html.Span(className="legend-scale", **{"aria-hidden": "true"}),
        html.Span(_("no colour: where it did not look"), className="legend-cold"),
    ])


def spinner_heading(text: str) -> html.H2:
    return html.H2([dbc.Spinner(spinner_class_name="me-3"), text], className="notice")


def preparing(mode: str) -> html.Div:
    """Shown while no game is ready yet: the page asks again every POLL_MS
    (pages/waiting.py)."""
    return html.Div(id="preparing", className="page-center", children=[
        dcc.Store(id="prepare-mode", data=mode),
        spinner_heading(_("Preparing your game…")),
        dcc.Interval(id="prepare-poll", interval=POLL_MS),
    ])


def waiting() -> html.Div:
    """Shown when a page cannot be drawn right now (its data is late): asks again."""
    return html.Div(id="waiting", className="page-center", children=[
        spinner_heading(_("One moment…")),
        dcc.Interval(id="wait-retry", interval=2 * POLL_MS),
    ])


def verdict(guess: Car | None, answer: Car) -> tuple[str, str]:
    """(kind, points text) for a guess: kind is "exact", "make" or "miss"."""
    if guess is not None and guess.class_name == answer.class_name:
        return "exact", _("+{points} exact").format(points=POINTS_EXACT)
    if guess is not None and guess.make == answer.make:
        return "make", _("+{points} make right").format(points=POINTS_MAKE)
    return "miss", "+0"


def guess_line(who: str, guess: Car | None, answer: Car, id_: str) -> html.Div:
    kind, points = verdict(guess, answer)
    return html.Div(id=id_, className=f"guess-line {kind}", children=[
        html.Span(who, className="guess-who"),
        html.Span(guess.class_name if guess else "—", className="guess-name"),
        html.Span(points, className="guess-points"),
    ])


def top5(top: list[tuple[Car, float]], answer: Car | None = None, id_: str = "top5",
         ) -> html.Div:
    """The AI's best guesses as bars on a full 0–100 % scale, the ``answer`` marked when
    known. Plain HTML: nothing to load on the first result."""
    rows = []
    for car, score in top:
        right = answer is not None and car.class_name == answer.class_name
        rows.append(html.Div(className="top5-row" + (" top5-answer" if right else ""), children=[
            html.Div([car.class_name, *([html.Span(" ✔ " + _("the answer"),
                                                   className="top5-mark")] if right else [])],
                     className="top5-label"),
            html.Div(className="top5-track", children=html.Div(
                className="top5-bar", style={"width": f"{score * 100:.1f}%"})),
            html.Div(percent(score), className="top5-value"),
        ]))
    scale = html.Div(className="top5-scale", **{"aria-hidden": "true"},
                     children=[html.Span(percent(tick)) for tick in (0, 0.25, 0.5, 0.75, 1)])
    return html.Div(id=id_, className="top5",
                    children=[*rows, html.Div(className="top5-row", children=[
                        html.Div(className="top5-label"), scale, html.Div(
                            className="top5-value")])])
