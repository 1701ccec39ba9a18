"""Components only: the shell, the header and the four pages. No callbacks, no I/O."""
from __future__ import annotations

import base64

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.game import EASY, EXPERT, POINTS_EXACT, POINTS_MAKE, Car, Game, Round
from dashboard.guard import new_session_id

TITLE = "Beat the AI — Car Edition"
# What a visitor reads when a back-end is missing: what it means for them, not its name.
MISSING = {
    "model": "The AI is taking a short break: new games start as soon as it is back.",
    "images": "The car photos are unavailable for a moment: new games start as soon as "
              "they are back.",
    "explainer": "“Where the AI looked” is unavailable for a moment: you can play, the "
                 "results just won't show it.",
}
POLL_MS = 500  # how often a page waiting for a game asks again
MODE_NAMES = {EASY: "Easy", EXPERT: "Expert"}


def shell() -> html.Div:
    """Called per page load: a session id minted here, unless the browser tab already has one
    (``dcc.Store`` in session storage keeps it across refreshes; the kiosk's idle reset clears
    it, so the next visitor gets a new one)."""
    return html.Div([
        dcc.Location(id="url", refresh="callback-nav"),
        dcc.Store(id="session", storage_type="session", data=new_session_id()),
        dcc.Store(id="rendered"),  # the path whose page is on screen (callbacks.RENDERED)
        html.Header(id="header", className="bg-dark text-white py-2 mb-3"),
        dbc.Container(id="page", fluid="xxl", className="pb-5"),
    ])


def header(game: Game | None) -> dbc.Container:
    """Title and scores; during a game also its round and a way out ("New game")."""
    you, ai = game.scores() if game else (0, 0)
    rounds = len(game.rounds) if game else 0
    number = min(game.current + 1, rounds) if game else 0
    badge = "fs-4 ms-3 px-3 py-2"
    return dbc.Container(fluid="xxl", className="d-flex align-items-center", children=[
        html.H1(TITLE, className="h2 mb-0 me-auto"),
        dbc.Badge(["You ", html.Span(you, id="score-you")], color="primary", className=badge),
        dbc.Badge(["AI ", html.Span(ai, id="score-ai")], color="danger", className=badge),
        *([dbc.Badge(MODE_NAMES[game.mode], id="mode-label", color="info",
                     className=badge)] if game else []),
        dbc.Badge(f"Round {number}/{rounds}" if game else "Ready?", id="round-label",
                  color="secondary", className=badge),
        *([dbc.Button("New game", id="new-game", color="light", outline=True,
                      className="fs-4 ms-3 px-3 py-1")] if game else []),
    ])


def _image(data: bytes, **kwargs) -> html.Img:
    return html.Img(src="data:image/jpeg;base64," + base64.b64encode(data).decode(), **kwargs)


def home_status(missing: list[str], can_start: bool) -> list:
    """Which parts are missing, in a visitor's words; nothing when all is well."""
    lines = [html.P(MISSING[name], className="mb-1", id=f"missing-{name}") for name in missing]
    if lines and not can_start:
        lines.append(html.P([dbc.Spinner(size="sm", spinner_class_name="me-2"),
                             "This page updates by itself."], className="mb-0"))
    return [dbc.Alert(lines, color="warning", className="d-inline-block")] if lines else []


def home(missing: list[str], can_start: bool) -> html.Div:
    rules = (f"Five photos of cars: name each one. The right make earns {POINTS_MAKE} point "
             f"and the exact car (make, model and year) {POINTS_EXACT} points; the AI's guess "
             f"is scored the same way.")
    return html.Div(className="text-center py-5", children=[
        html.H2("Who knows cars better: you or the AI?", className="display-3 mb-4"),
        html.P(rules, className="lead fs-3 mx-auto mb-5", style={"maxWidth": "60rem"}),
        html.Div(className="d-flex justify-content-center gap-4", children=[
            dbc.Button([html.Div("Easy", className="fs-1"),
                        html.Div("pick one of four", className="fs-4")],
                       id="play-easy", size="lg", color="success", disabled=not can_start,
                       className="px-5 py-3"),
            dbc.Button([html.Div("Expert", className="fs-1"),
                        html.Div("make, then model", className="fs-4")],
                       id="play", size="lg", color="primary", disabled=not can_start,
                       className="px-5 py-3"),
        ]),
        html.Div(id="home-status", className="mt-4 fs-4",
                 children=home_status(missing, can_start)),
        html.Div(id="home-alert", className="mt-3"),
        dcc.Interval(id="retry", interval=2000),  # the status follows the back-ends' health
    ])


def preparing(mode: str) -> html.Div:
    """Shown while no game is ready yet: the page asks again every POLL_MS."""
    return html.Div(id="preparing", className="text-center py-5", children=[
        dcc.Store(id="prepare-mode", data=mode),
        html.H2([dbc.Spinner(spinner_class_name="me-3"), "Preparing your game…"],
                className="display-5 my-5"),
        dcc.Interval(id="prepare-poll", interval=POLL_MS),
    ])


def waiting() -> html.Div:
    """Shown when a page cannot be drawn right now (its data is late): asks again."""
    return html.Div(id="waiting", className="text-center py-5", children=[
        html.H2([dbc.Spinner(spinner_class_name="me-3"), "One moment…"],
                className="display-5 my-5"),
        dcc.Interval(id="wait-retry", interval=2 * POLL_MS),
    ])


def attract_slide(rounds: list[Round], n: int) -> list:
    """One photo of the showcase: the photo, where the AI looked, and its guess."""
    if not rounds:
        return []
    shown = rounds[n % len(rounds)]
    car, score = shown.ai_top[0]
    right = car.class_name == shown.answer.class_name
    return [
        dbc.Row(className="g-4 justify-content-center", children=[
            dbc.Col(md=5, children=_image(shown.photo, className="img-fluid rounded shadow",
                                          style={"maxHeight": "52vh"})),
            *([dbc.Col(md=5, children=_image(shown.overlay, className="img-fluid rounded shadow",
                                             style={"maxHeight": "52vh"}))]
              if shown.overlay else []),
        ]),
        html.P(["The AI says: ", html.Strong(car.class_name), f" ({score:.0%})",
                html.Span(" ✔" if right else f" ✘ it is a {shown.answer.class_name}",
                          className="text-success" if right else "text-warning")],
               className="fs-2 mt-4 mb-0"),
    ]


def attract(rounds: list[Round]) -> html.Div:
    """The kiosk's screen between visitors: the AI at work, and an invitation. A touch
    anywhere starts a game."""
    return html.Div(id="attract", n_clicks=0, role="button", className="attract text-center",
                    children=[
        html.H2("Who knows cars better: you or the AI?", className="display-3 mb-4"),
        html.Div(id="attract-slide", children=attract_slide(rounds, 0)),
        html.P("Touch to play", className="attract-cta display-3 fw-bold text-primary mt-4"),
        dcc.Interval(id="attract-tick", interval=6000),
    ])


def _pickers(cars: list[Car]) -> list:
    makes = sorted({c.make for c in cars}, key=str.casefold)  # "Maybach", "MINI", "smart"
    button = {"inputClassName": "btn-check", "labelClassName": "btn btn-outline-primary",
              "labelCheckedClassName": "active", "className": "picker mb-3"}
    return [
        html.H3("1. The make", className="h4"),
        dbc.RadioItems(id="make", options=makes, value=None, **button),
        html.H3("2. The model", className="h4"),
        dbc.RadioItems(id="model", options=[], value=None, **button),
    ]


def _choices(current: Round) -> list:
    """Easy mode: four big buttons, one of them the answer; a touch is the guess."""
    return [
        html.H3("Pick one", className="h4"),
        html.Div(id="choices", className="d-grid gap-3", children=[
            dbc.Button(car.class_name, id=f"choice-{n}", color="primary", outline=True,
                       size="lg", className="fs-3 py-3 text-start")
            for n, car in enumerate(current.choices)
        ]),
    ]


def model_hint(make: str, count: int) -> str:
    return f"1 {make} model: pick it." if count == 1 else f"{count} {make} models: pick one."


def attempt(game: Game, cars: list[Car]) -> dbc.Row:
    current = game.round
    assert current is not None
    if game.mode == EASY:
        return dbc.Row(className="g-4", children=[
            dcc.Store(id="round-index", data=game.current),
            dbc.Col(md=7, children=dbc.Card(dbc.CardBody(_image(
                current.photo, id="photo", className="img-fluid w-100",
                style={"maxHeight": "70vh", "objectFit": "contain"})))),
            dbc.Col(md=5, children=[
                html.H2("Which car is this?", className="display-6 mb-3"),
                *_choices(current),
            ]),
        ])
    return dbc.Row(className="g-4", children=[
        dcc.Store(id="round-index", data=game.current),
        dbc.Col(md=6, children=[
            dbc.Card(dbc.CardBody(_image(current.photo, id="photo", className="img-fluid w-100",
                                         style={"maxHeight": "60vh", "objectFit": "contain"}))),
            # Under the photo, where the eyes are, and never pushed off screen by the pickers.
            html.Div(className="d-flex align-items-center mt-3", children=[
                dbc.Button("Guess", id="guess", size="lg", color="success", disabled=True,
                           className="px-5 py-3 fs-3 me-4"),
                html.Span("Choose a make first.", id="model-hint", className="text-muted fs-5"),
            ]),
        ]),
        dbc.Col(md=6, children=[
            html.H2("Which car is this?", className="display-6 mb-3"),
            *_pickers(cars),
        ]),
    ])


def _verdict(guess: Car | None, answer: Car) -> tuple[str, str]:
    """(Bootstrap colour, points text) for a guess."""
    if guess is not None and guess.class_name == answer.class_name:
        return "success", f"+{POINTS_EXACT} exact"
    if guess is not None and guess.make == answer.make:
        return "warning", f"+{POINTS_MAKE} make right"
    return "danger", "+0"


def _guess_line(who: str, guess: Car | None, answer: Car, id_: str) -> dbc.Alert:
    colour, text = _verdict(guess, answer)
    return dbc.Alert(id=id_, color=colour, className="fs-4 mb-2 d-flex", children=[
        html.Span([html.Strong(f"{who}: "), guess.class_name if guess else "—"],
                  className="me-auto"),
        html.Span(text, className="fw-bold"),
    ])


def top5_figure(played: Round) -> go.Figure:
    names = [car.class_name for car, _ in played.ai_top][::-1]
    scores = [score * 100 for _, score in played.ai_top][::-1]
    colours = ["#198754" if n == played.answer.class_name else "#6c757d" for n in names]
    figure = go.Figure(go.Bar(x=scores, y=names, orientation="h", marker_color=colours,
                              text=[f"{s:.0f}%" for s in scores], textposition="auto"))
    figure.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 30}, height=260,
                         xaxis={"range": [0, 100], "ticksuffix": "%"},
                         yaxis={"automargin": True}, font={"size": 15})
    return figure


def share_right(share: float | None) -> str:
    """How other visitors did on this photo (from the statistics)."""
    if share is None:
        return "You are the first visitor to see this photo."
    return f"{share:.0%} of visitors named this car exactly."


def result(game: Game, share: float | None = None) -> html.Div:
    """``share``: of the visitors who saw this photo before, the share who named it exactly."""
    played = game.round
    assert played is not None
    last = game.current == len(game.rounds) - 1
    box = "h-100 shadow-sm"
    overlay = (_image(played.overlay, id="overlay", className="img-fluid w-100",
                      style={"maxHeight": "33vh", "objectFit": "contain"})
               if played.overlay else
               html.P("Explanation unavailable", id="overlay-missing",
                      className="text-muted fs-4 text-center my-5"))
    return html.Div([
        dcc.Store(id="round-index", data=game.current),
        dbc.Row(className="g-3 mb-3", children=[
            dbc.Col(md=6, children=dbc.Card(className=box, id="box-photo", children=[
                dbc.CardHeader("The photo", className="fs-5"),
                dbc.CardBody(_image(played.photo, className="img-fluid w-100",
                                    style={"maxHeight": "33vh", "objectFit": "contain"})),
            ])),
            dbc.Col(md=6, children=dbc.Card(className=box, id="box-guesses", children=[
                dbc.CardHeader("The guesses", className="fs-5"),
                dbc.CardBody([
                    _guess_line("You", played.guess, played.answer, "your-guess"),
                    _guess_line("The AI", played.ai_guess, played.answer, "ai-guess"),
                    dbc.Alert([html.Strong("Correct answer: "), played.answer.class_name],
                              id="answer", color="primary", className="fs-4 mb-2"),
                    html.P(share_right(share), id="photo-share", className="fs-5 mb-0"),
                ]),
            ])),
            dbc.Col(md=6, children=dbc.Card(className=box, id="box-gradcam", children=[
                dbc.CardHeader("Where the AI looked (Grad-CAM)", className="fs-5"),
                dbc.CardBody(overlay),
            ])),
            dbc.Col(md=6, children=dbc.Card(className=box, id="box-top5", children=[
                dbc.CardHeader("The AI's top 5", className="fs-5"),
                dbc.CardBody(dcc.Graph(id="top5", figure=top5_figure(played),
                                       config={"displayModeBar": False, "staticPlot": True})),
            ])),
        ]),
        html.Div(className="text-center", children=dbc.Button(
            "See who won" if last else "Next round", id="next", size="lg", color="primary",
            className="px-5 py-3 fs-3")),
    ])


def _recap_cell(guess: Car | None, answer: Car) -> html.Td:
    colour, points_text = _verdict(guess, answer)
    name = guess.class_name if guess else "—"
    return html.Td(dbc.Badge(f"{name} ({points_text})", color=colour,
                             className="fs-6 text-wrap text-start"))


def finish(game: Game, beaten: float | None = None, initials: object = None) -> html.Div:
    """``beaten``: the share of today's players with fewer points (from the statistics);
    ``initials``: the picker that puts them on the wall."""
    you, ai = game.scores()
    rows = []
    for number, played in enumerate(game.rounds, start=1):
        rows.append(html.Tr([
            html.Td(number, className="fs-5"),
            html.Td(_image(played.photo, style={"height": "70px"}, className="rounded")),
            *(_recap_cell(guess, played.answer) for guess in (played.guess, played.ai_guess)),
            html.Td(played.answer.class_name, className="fs-5"),
        ]))
    return html.Div(className="text-center", children=[
        html.H2(game.verdict(), id="verdict", className="display-3"),
        html.P(["You ", html.Strong(you, id="final-you"), " – ", html.Strong(ai, id="final-ai"),
                " AI"], className="display-6 mb-2"),
        html.P(f"You beat {beaten:.0%} of today's players." if beaten is not None else "",
               id="beaten-share", className="fs-3 mb-4"),
        dbc.Table(id="recap", bordered=False, hover=True, className="align-middle text-start",
                  children=[
                      html.Thead(html.Tr([html.Th(h) for h in
                                          ("#", "Photo", "You", "The AI", "Answer")])),
                      html.Tbody(rows),
                  ]),
        initials,
        dbc.Button("Play again", id="play", size="lg", color="primary",
                   className="px-5 py-3 fs-2 mt-3"),
        html.Div(id="home-alert", className="mt-3"),
    ])
