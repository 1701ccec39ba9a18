"""Components only: the shell, the header and the four pages. No callbacks, no I/O."""
from __future__ import annotations

import base64
import uuid

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.game import POINTS_EXACT, POINTS_MAKE, Car, Game, Round

TITLE = "Beat the AI — Car Edition"


def shell() -> html.Div:
    """Called per page load: a fresh session id, unless the browser tab already has one
    (``dcc.Store`` in session storage keeps it across refreshes)."""
    return html.Div([
        dcc.Location(id="url", refresh="callback-nav"),
        dcc.Store(id="session", storage_type="session", data=uuid.uuid4().hex),
        html.Header(id="header", className="bg-dark text-white py-2 mb-3"),
        dbc.Container(id="page", fluid="xxl", className="pb-5"),
    ])


def header(game: Game | None) -> dbc.Container:
    you, ai = game.scores() if game else (0, 0)
    rounds = len(game.rounds) if game else 0
    number = min(game.current + 1, rounds) if game else 0
    badge = "fs-4 ms-3 px-3 py-2"
    return dbc.Container(fluid="xxl", className="d-flex align-items-center", children=[
        html.H1(TITLE, className="h2 mb-0 me-auto"),
        dbc.Badge(["You ", html.Span(you, id="score-you")], color="primary", className=badge),
        dbc.Badge(["AI ", html.Span(ai, id="score-ai")], color="danger", className=badge),
        dbc.Badge(f"Round {number}/{rounds}" if game else "Ready?", id="round-label",
                  color="secondary", className=badge),
    ])


def _image(data: bytes, **kwargs) -> html.Img:
    return html.Img(src="data:image/jpeg;base64," + base64.b64encode(data).decode(), **kwargs)


def home(ready: bool) -> html.Div:
    rules = (f"Five photos of cars: for each, pick the make, then the model. The right make "
             f"earns {POINTS_MAKE} point and the exact car (make, model and year) "
             f"{POINTS_EXACT} points; the AI's guess is scored the same way.")
    return html.Div(className="text-center py-5", children=[
        html.H2("Who knows cars better: you or the AI?", className="display-3 mb-4"),
        html.P(rules, className="lead fs-3 mx-auto mb-5", style={"maxWidth": "60rem"}),
        dbc.Button("Let's play", id="play", size="lg", color="primary", disabled=not ready,
                   className="px-5 py-3 fs-1"),
        html.Div(id="home-status", className="mt-4 fs-4", children=None if ready else [
            dbc.Spinner(size="sm", spinner_class_name="me-2"),
            "The AI is warming up… this page retries by itself.",
        ]),
        html.Div(id="home-alert", className="mt-3"),
        dcc.Interval(id="retry", interval=3000, disabled=ready),
    ])


def _pickers(cars: list[Car]) -> list:
    makes = sorted({c.make for c in cars})
    button = {"inputClassName": "btn-check", "labelClassName": "btn btn-outline-primary",
              "labelCheckedClassName": "active", "className": "picker mb-3"}
    return [
        html.H3("1. The make", className="h4"),
        dbc.RadioItems(id="make", options=makes, value=None, **button),
        html.H3("2. The model", className="h4"),
        dbc.RadioItems(id="model", options=[], value=None, **button),
    ]


def attempt(game: Game, cars: list[Car]) -> dbc.Row:
    current = game.round
    assert current is not None
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


def result(game: Game) -> html.Div:
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
                              id="answer", color="primary", className="fs-4 mb-0"),
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


def finish(game: Game) -> html.Div:
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
                " AI"], className="display-6 mb-4"),
        dbc.Table(id="recap", bordered=False, hover=True, className="align-middle text-start",
                  children=[
                      html.Thead(html.Tr([html.Th(h) for h in
                                          ("#", "Photo", "You", "The AI", "Answer")])),
                      html.Tbody(rows),
                  ]),
        dbc.Button("Play again", id="play", size="lg", color="primary",
                   className="px-5 py-3 fs-2 mt-3"),
        html.Div(id="home-alert", className="mt-3"),
    ])
