"""The console's event settings: the event's name and its colour, the language a visitor
starts in, the idle time, the modes and makes on offer, and the logo. Each is checked
(``dashboard.event.settings``, ``dashboard.event.logo``) and kept in the database; the
visitors' pages show it within seconds, in every worker (``EventConfig``)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
import flask
from dash import Dash, Input, Output, State, ctx, dcc, html
from dash.exceptions import PreventUpdate
from sqlalchemy.exc import SQLAlchemyError

from dashboard import components
from dashboard.components import MODE_NAMES
from dashboard.event import logo as logos
from dashboard.event.settings import (
    IDLE_RANGE,
    MAX_NAME,
    EventRefused,
    checked_accent,
    checked_idle,
    checked_language,
    checked_makes,
    checked_modes,
    checked_name,
)
from dashboard.game import MODES
from dashboard.i18n import N_, NAMES, _, in_language
from dashboard.navigation import LANGUAGE, Navigator
from dashboard.operator import web

UNAVAILABLE = N_("The statistics database does not answer just now.")
BROWSER = "browser"  # the language choice "the visitor's browser decides" (a select's "" shows
# no label)


def photos_by_make(nav: Navigator) -> dict[str, int] | None:
    """Pool photos per make, A to Z; None while the pool cannot be read."""
    manifest = nav.catalog.get()
    if manifest is None:
        return None
    counts: dict[str, int] = {}
    for photo in manifest.photos:
        counts[photo.answer.make] = counts.get(photo.answer.make, 0) + 1
    return dict(sorted(counts.items()))


def _field(label: str, control: object, id_: str) -> html.Div:
    return html.Div(className="mb-3", children=[
        html.Label(label, htmlFor=id_, className="form-label"), control])


def _makes(nav: Navigator, chosen: tuple[str, ...]) -> object:
    counts = photos_by_make(nav)
    if counts is None:
        return html.P(_("The photo pool cannot be read just now: open this page again in a "
                        "moment to choose the makes."), id="operator-event-makes-unavailable")
    return html.Div([
        dbc.Checklist(
            id="operator-event-makes", className="operator-makes mb-2",
            options=[{"label": f"{make} ({n})", "value": make} for make, n in counts.items()],
            value=list(chosen or counts)),
        html.Div(className="d-flex flex-wrap gap-2", children=[
            dbc.Button(_("All makes"), id="operator-event-makes-all", color="secondary",
                       outline=True),
            dbc.Button(_("None"), id="operator-event-makes-none", color="secondary",
                       outline=True),
        ]),
    ])


def layout(nav: Navigator) -> list:
    event = nav.event.current
    low, high = IDLE_RANGE
    return [
        html.Section(className="operator-box", id="operator-event", children=[
            html.H2(_("The event"), className="box-title"),
            _field(_("Event name (on the start page, the attract screen and the wall)"),
                   dbc.Input(id="operator-event-name", value=event.name, maxLength=MAX_NAME),
                   "operator-event-name"),
            _field(_("Colour of the name, as #rrggbb (empty: the game's own)"),
                   dbc.Input(id="operator-event-accent", value=event.accent,
                             placeholder="#38bdf8", maxLength=7), "operator-event-accent"),
            _field(_("Language a visitor starts in"), dbc.Select(
                id="operator-event-language", value=event.language or BROWSER,
                options=[{"label": _("The visitor's browser decides"), "value": BROWSER},
                         *({"label": name, "value": code} for code, name in NAMES.items())]),
                "operator-event-language"),
            _field(_("Seconds without a touch before “Still playing?” ({low}–{high})").format(
                       low=low, high=high),
                   dbc.Input(id="operator-event-idle", type="number", min=low, max=high,
                             step=1, value=nav.event.idle_seconds()), "operator-event-idle"),
            html.Fieldset(className="mb-3", children=[
                html.Legend(_("Modes on offer"), className="form-label"),
                dbc.Checklist(id="operator-event-modes", inline=True, value=list(event.modes),
                              options=[{"label": _(MODE_NAMES[m]), "value": m} for m in MODES]),
            ]),
            html.Fieldset(className="mb-3", children=[
                html.Legend(_("Makes the game and the attract screen show (photos in the "
                              "pool)"), className="form-label"),
                _makes(nav, event.makes),
            ]),
            dbc.Button(_("Save"), id="operator-event-save", color="primary"),
            html.Div(id="operator-event-message", className="mt-2", **{"aria-live": "polite"}),
        ]),
        html.Section(className="operator-box", children=[
            html.H2(_("Logo"), className="box-title"),
            html.Div(components.event_identity(event), id="operator-logo-now",
                     className="event-banner mb-2"),
            # the label around it labels the file input inside and opens its dialog (a click
            # on the drop zone itself would open a second one)
            html.Label(className="d-block mb-2", children=dcc.Upload(
                id="operator-logo-upload", accept="image/png,image/jpeg", disable_click=True,
                className="operator-upload",
                children=html.Span(_("Choose a PNG or JPEG file (at most 2 MB)")))),
            dbc.Button(_("Remove the logo"), id="operator-logo-remove", color="secondary"),
            html.Div(id="operator-logo-message", className="mt-2", **{"aria-live": "polite"}),
        ]),
    ]


def _said(text: str, colour: str) -> dbc.Alert:
    return dbc.Alert(text, color=colour, className="mb-0")


def _refused(exc: EventRefused | logos.LogoRefused) -> dbc.Alert:
    return _said(_(str(exc)).format(**getattr(exc, "params", {})), "danger")


def register(app: Dash, nav: Navigator) -> None:
    @app.callback(Output("operator-event-message", "children"),
                  Input("operator-event-save", "n_clicks"),
                  State("operator-event-name", "value"), State("operator-event-accent", "value"),
                  State("operator-event-language", "value"), State("operator-event-idle", "value"),
                  State("operator-event-modes", "value"), State("operator-event-makes", "value"),
                  LANGUAGE, prevent_initial_call=True)
    @in_language
    def save(clicks: int | None, name: str | None, accent: str | None, language: str | None,
             idle: float | None, modes: list[str] | None, makes: list[str] | None):
        if not clicks:
            raise PreventUpdate
        counts = photos_by_make(nav)
        if counts is None:
            return _said(_("The photo pool cannot be read just now: try again in a moment."),
                         "warning")
        try:
            values = {"name": checked_name(name), "accent": checked_accent(accent),
                      "language": checked_language("" if language == BROWSER else language),
                      "idle_seconds": checked_idle(idle),
                      "modes": checked_modes(modes), "makes": checked_makes(makes, counts)}
        except EventRefused as exc:
            return _refused(exc)
        before = nav.event.current
        try:
            nav.event.save(**values)
        except SQLAlchemyError:
            return _said(_(UNAVAILABLE), "danger")
        changed = [key for key, value in values.items() if getattr(before, key) != value]
        nav.operator.audit(web.address(flask.request), "event settings",
                           ", ".join(changed) or "unchanged")
        return _said(_("Saved. The visitors' pages show it within seconds."), "success")

    @app.callback(Output("operator-event-makes", "value"),
                  Input("operator-event-makes-all", "n_clicks"),
                  Input("operator-event-makes-none", "n_clicks"), prevent_initial_call=True)
    def tick_makes(every: int | None, none: int | None):
        """Tick every make, or none (then the owner ticks the few wanted)."""
        if not (every or none):
            raise PreventUpdate
        counts = photos_by_make(nav) if ctx.triggered_id == "operator-event-makes-all" else {}
        if counts is None:
            raise PreventUpdate
        return list(counts)

    @app.callback(Output("operator-logo-message", "children"),
                  Output("operator-logo-now", "children"),
                  Input("operator-logo-upload", "contents"),
                  Input("operator-logo-remove", "n_clicks"), LANGUAGE, prevent_initial_call=True)
    @in_language
    def logo(contents: str | None, remove: int | None):
        removing = ctx.triggered_id == "operator-logo-remove"
        if not (contents if not removing else remove):
            raise PreventUpdate
        try:
            png = None if removing else logos.uploaded_logo(contents)
        except logos.LogoRefused as exc:
            return _refused(exc), components.event_identity(nav.event.current)
        digest = logos.digest(png) if png else ""
        try:
            event = nav.event.save_logo(digest, png)
        except SQLAlchemyError:
            return _said(_(UNAVAILABLE), "danger"), components.event_identity(nav.event.current)
        nav.operator.audit(web.address(flask.request), "logo", digest or "removed")
        text = _("The logo is removed.") if removing else _(
            "The new logo is on the visitors' pages within seconds.")
        return _said(text, "success"), components.event_identity(event)
