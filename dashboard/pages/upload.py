"""``/upload``: a visitor's own photo. Drop it, choose it or take it with a phone's camera;
the AI's top 5, its make's share, where it looked, and "Was the AI right?" for the statistics;
or, as the model judges its own answer (version 2 on), "I don't see a car here" or "Not sure:
maybe a BMW" with no exact car named.

The photo travels as a ``data:`` URL in one callback body (guard.py lets only this callback
send that much). A file over ``photos.MAX_BYTES`` is refused in the browser before it is sent;
everything else is checked by ``dashboard.photos``. The photo is kept only if
``DASHBOARD_KEEP_UPLOADS`` names a directory.
"""
from __future__ import annotations

import logging
import secrets
from pathlib import Path

from dash import Dash, Input, Output, State, clientside_callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import components, photos
from dashboard.clients import NOT_READY
from dashboard.game import UPLOAD, Car, Game
from dashboard.i18n import N_, _, in_language, percent
from dashboard.navigation import LANGUAGE, Navigator
from model_api.client import GradCam, Judged, Judgement

MENU = N_("Your photo")
PATH = UPLOAD

log = logging.getLogger(__name__)

# In the browser: a file too large to send is refused there, with the page's message;
# anything else is handed to the server through the ``upload-file`` store.
CHECK_SIZE = """function (contents, limits) {
    if (!contents) { return [window.dash_clientside.no_update, window.dash_clientside.no_update]; }
    const data = contents.slice(contents.indexOf(',') + 1);
    if (data.length * 3 / 4 > limits.max_bytes) { return [null, limits.too_big]; }
    return [contents, window.dash_clientside.no_update];
}"""


def layout() -> html.Div:
    return html.Div(className="upload", children=[
        dcc.Store(id="upload-file"),
        dcc.Store(id="upload-limits", data={"max_bytes": photos.MAX_BYTES,
                                            "too_big": _(photos.TOO_BIG)}),
        html.Div(className="upload-side", children=[
            html.H1(_("Your photo: which car is it?"), className="upload-title"),
            # Inside a <label>: its file input is named by the text, and a tap on it opens
            # the chooser (or the camera) natively; the drop zone takes dropped files.
            html.Label(dcc.Upload(
                id="upload-photo", accept="image/*", disable_click=True,
                className="upload-drop", className_active="upload-drop active",
                children=html.Div([
                    html.Span(_("Drop a photo of a car here"), className="upload-how"),
                    html.Span(_("or tap to choose one or take one"), className="upload-or"),
                ])), className="upload-label"),
            html.P(_("JPEG, PNG or WebP, at most 10 MB. Your photo is not kept."),
                   className="upload-rules"),
            html.Div(id="upload-message", role="alert", className="upload-message"),
        ]),
        dcc.Loading(type="circle", parent_className="upload-loading",
                    children=html.Div(before_a_photo(), id="upload-answer",
                                      className="upload-answer")),
    ])


def before_a_photo() -> html.Div:
    """What the answer's place says until there is an answer: what the AI will do."""
    return html.Div(id="upload-promise", className="upload-promise", children=[
        html.H2(_("What the AI will tell you"), className="upload-promise-title"),
        html.Ol(className="upload-promise-list", children=[
            html.Li(_("Which car it thinks it is: make, model and year.")),
            html.Li(_("How sure it is. When it is not sure, it says so, and names only the "
                      "make it is surer of.")),
            html.Li(_("Where it looked, in colour over your photo.")),
            html.Li(_("If it sees no car at all: it says that too.")),
        ]),
    ])


def view(nav: Navigator, game: Game | None) -> html.Div:
    return layout()


def cars_of(top: GradCam, cars: list[Car] | None) -> list[tuple[Car, float]]:
    """The model's top 5 as cars (their makes from the class list); a class the list lacks
    (it could not be had) is shown by its name alone."""
    known = {car.class_name: car for car in cars or []}
    return [(known.get(name) or Car(name, "", name, 0), score)
            for name, score in zip(top.prediction.classes, top.prediction.scores, strict=True)]


def make_share(make: str, probabilities: list[float], cars: list[Car] | None) -> float | None:
    """``make``'s probability summed over all its models; None without a class list that
    matches the model's (``probabilities[i]`` is the class list's ``i``-th car)."""
    if not make or cars is None or len(cars) != len(probabilities):
        return None
    return sum(p for car, p in zip(cars, probabilities, strict=True) if car.make == make)


def _looked(overlay: bytes | None) -> html.Div | html.Img:
    if overlay:
        return components.image(overlay, _("Where the AI looked"), id="upload-overlay",
                                className="upload-img")
    return html.Div(_("Explanation unavailable"), id="upload-overlay-missing",
                    className="overlay-missing upload-img")


def _figures(upload: photos.Upload, overlay: bytes | None, looked: bool = True) -> html.Div:
    """The visitor's photo and, where the AI judged a car, where it looked."""
    figures = [html.Figure(className="upload-figure", children=[
        components.image(upload.preview_jpeg, _("Your photo"), id="upload-preview",
                         className="upload-img"),
        html.Figcaption(_("Your photo"))])]
    if looked:
        figures.append(html.Figure(className="upload-figure", children=[
            _looked(overlay), html.Figcaption(_("Where the AI looked"))]))
    return html.Div(figures, className="upload-images")


def not_a_car(upload: photos.Upload, count: int) -> html.Div:
    """No car name at all: the AI does not see one of the cars it knows."""
    return html.Div(className="upload-result", children=[
        _figures(upload, None, looked=False),
        html.Div(id="upload-not-a-car", className="upload-refusal",
                 children=[html.H2(_("I don't see a car here."), className="box-title"),
                           html.P(_("The AI only knows cars: {count} models, up to 2012. Try a "
                                    "photo of a whole car.").format(count=count))]),
    ])


def unsure(upload: photos.Upload, overlay: bytes | None, judgement: Judgement,
           count: int) -> html.Div:
    """Not sure of the exact car: the make, if it is sure of that, else "don't know"."""
    if judgement.make_sure:
        said = _("Not sure: maybe a {make}.").format(make=judgement.make)
    else:
        said = _("I don't know this car.")
    return html.Div(className="upload-result", children=[
        _figures(upload, overlay),
        components.gradcam_legend(),
        html.Div(id="upload-unsure", className="upload-refusal", children=[
            html.H2(said, className="box-title"),
            html.P(_("The AI knows {count} models, all from 2012 or earlier, and names one only "
                     "when it is sure.").format(count=count))]),
    ])


def result_view(upload: photos.Upload, cam: GradCam, judged: Judged, overlay: bytes | None,
                cars: list[Car] | None, upload_id: str) -> html.Div:
    """The AI's answer to a visitor's photo: no car seen, not sure, or its top 5 (a model
    without a judgement, version 1, always gives its top 5)."""
    count = len(cars or []) or 196
    judgement = judged.judgement
    if judgement is not None and not judgement.is_car:
        return not_a_car(upload, count)
    if judgement is not None and not judgement.sure:
        return unsure(upload, overlay, judgement, count)
    top = cars_of(cam, cars)
    best, score = top[0]
    notes = []
    share = make_share(best.make, judged.probabilities, cars)
    if share is not None:
        notes.append(html.P(_("Make {make}, all its models together: {share}").format(
            make=best.make, share=percent(share)), id="upload-make", className="upload-note"))
    return html.Div(className="upload-result", children=[
        dcc.Store(id="upload-id", data=upload_id),
        dcc.Store(id="upload-top1", data=best.class_name),
        _figures(upload, overlay),
        components.gradcam_legend(),
        html.Div(className="upload-verdict-row", children=[
            html.Div(className="top5-box", children=[
                html.H2(_("The AI's top 5"), className="box-title"),
                components.top5(top, id_="upload-top5"), *notes]),
            html.Div(id="upload-verdict", className="upload-verdict", children=[
                html.H2(_("Was the AI right?"), className="box-title"),
                html.Button(_("Yes"), id="upload-yes", className="btn go"),
                html.Button(_("No"), id="upload-no", className="btn btn-outline-light"),
            ]),
        ]),
    ])


def keep(directory: Path | None, upload_id: str, data: bytes) -> None:
    """Only where the stand says so (``DASHBOARD_KEEP_UPLOADS``)."""
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{upload_id}.jpg").write_bytes(data)


def register(app: Dash, nav: Navigator) -> None:
    clientside_callback(CHECK_SIZE, Output("upload-file", "data"),
                        Output("upload-message", "children", allow_duplicate=True),
                        Input("upload-photo", "contents"), State("upload-limits", "data"),
                        prevent_initial_call=True)

    @app.callback(Output("upload-answer", "children"),
                  Output("upload-message", "children", allow_duplicate=True),
                  Input("upload-file", "data"), LANGUAGE, prevent_initial_call=True)
    @in_language
    def classify(contents: str | None):
        if not contents:
            raise PreventUpdate
        try:
            upload = photos.prepare(photos.from_data_url(contents))
        except photos.PhotoRefused as refused:
            return before_a_photo(), _(str(refused))
        try:
            cam, judged, overlay = nav.upload.classify(upload.model_jpeg, upload.preview_jpeg)
        except NOT_READY as exc:
            log.warning("an uploaded photo was not classified", extra={"error": str(exc)})
            return before_a_photo(), _("The AI is taking a short break. Please try again in a "
                                       "moment.")
        upload_id = secrets.token_hex(8)
        keep(nav.upload.keep_dir, upload_id, upload.model_jpeg)
        return result_view(upload, cam, judged, overlay, nav.catalog.cars(), upload_id), None

    @app.callback(Output("upload-verdict", "children"), Input("upload-yes", "n_clicks"),
                  Input("upload-no", "n_clicks"), State("upload-id", "data"),
                  State("upload-top1", "data"), LANGUAGE, prevent_initial_call=True)
    @in_language
    def judged(yes: int | None, no: int | None, upload_id: str, top1: str):
        cars = nav.catalog.cars()
        if not (yes or no) or (cars is not None and top1 not in {c.class_name for c in cars}):
            raise PreventUpdate  # a verdict on a class the AI does not know: none it gave
        nav.scoreboard.upload_verdict(upload_id, top1, ctx.triggered_id == "upload-yes")
        return html.P(_("Thank you! Try another photo."), id="upload-thanks",
                      className="upload-thanks")
