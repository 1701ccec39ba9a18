"""``/operator``: the stand's owner's console, behind a password. Off (and saying how to turn
it on) until ``DASHBOARD_OPERATOR_PASSWORD`` is set; not in the visitors' menu and not served in
the kiosk profile. Every callback here reads or writes an ``operator-`` component, so the
request guard checks the session (and the origin) before Dash runs it (operator/web.py).
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
import flask
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.game import Game
from dashboard.i18n import _, in_language, ngettext
from dashboard.navigation import LANGUAGE, Navigator
from dashboard.operator import web

PATH = web.PAGE
REFRESH_MS = 5_000


def off() -> html.Div:
    return html.Div(id="operator-off", className="operator", children=[
        html.H1(_("Operator console"), className="operator-title"),
        dbc.Alert(_("The console is off. To turn it on, set DASHBOARD_OPERATOR_PASSWORD (or "
                    "DASHBOARD_OPERATOR_PASSWORD_HASH) before starting the stand, then open "
                    "this page again."), color="secondary"),
    ])


def sign_in() -> html.Div:
    return html.Div(id="operator-sign-in", className="operator", children=[
        html.H1(_("Operator console"), className="operator-title"),
        html.Label(_("Password"), htmlFor="operator-password", className="form-label"),
        dcc.Input(id="operator-password", type="password", className="form-control mb-3",
                  autoComplete="current-password", debounce=False),
        dbc.Button(_("Sign in"), id="operator-login", color="primary"),
        html.Div(id="operator-message", className="mt-3", **{"aria-live": "polite"}),
        dcc.Location(id="operator-go", refresh=True),
    ])


def console() -> html.Div:
    return html.Div(id="operator-console", className="operator", children=[
        html.Div(className="d-flex justify-content-between align-items-center", children=[
            html.H1(_("Operator console"), className="operator-title"),
            dbc.Button(_("Sign out"), id="operator-logout", color="secondary",
                       className="text-nowrap"),
        ]),
        html.Section(id="operator-status", className="operator-box"),
        dcc.Interval(id="operator-tick", interval=REFRESH_MS),
        dcc.Location(id="operator-go", refresh=True),
    ])


def view(nav: Navigator, _game: Game | None) -> html.Div:
    if not nav.operator.enabled:
        return off()
    if nav.operator.signed_in(flask.request.cookies.get(web.COOKIE)):
        return console()
    return sign_in()


def status(nav: Navigator) -> list:
    """What the stand is doing now: the back-ends, the model version, the photo pool."""
    health = nav.health.current
    parts = [("model", _("The AI (model server)"), health.model),
             ("images", _("The photos (image server)"), health.images),
             ("explainer", _("Where the AI looked (explainer)"), health.explainer),
             ("store", _("Game store"), health.store)]
    rows = [html.Tr([html.Td(label), html.Td(
        _("up") if up else _("down"), id=f"operator-service-{key}",
        className="text-success-emphasis" if up else "text-danger-emphasis")])
        for key, label, up in parts]
    pool = nav.catalog.size()
    return [html.H2(_("The stand now"), className="box-title"),
            dbc.Table(html.Tbody(rows), borderless=True, size="sm", className="mb-2"),
            html.P([_("Model version: {version}").format(
                version=health.version if health.version is not None else "–")],
                id="operator-model-version"),
            html.P(ngettext("{n} photo in the pool", "{n} photos in the pool", pool).format(
                n=pool), id="operator-pool")]


def register(app: Dash, nav: Navigator) -> None:
    @app.callback(Output("operator-message", "children"), Output("operator-go", "href"),
                  Input("operator-login", "n_clicks"), State("operator-password", "value"),
                  LANGUAGE, prevent_initial_call=True)
    @in_language
    def login(clicks: int | None, password: str | None):
        if not clicks:
            raise PreventUpdate
        request = flask.request
        result = nav.operator.login(password or "", web.address(request))
        if result.cookie is not None:
            web.set_session(ctx.response, result.cookie, request.is_secure)
            return no_update, PATH
        if result.locked_for:
            minutes = max(1, round(result.locked_for / 60))
            text = ngettext("Too many wrong passwords. Try again in {n} minute.",
                            "Too many wrong passwords. Try again in {n} minutes.",
                            minutes).format(n=minutes)
        else:
            text = _("Wrong password.")
        return dbc.Alert(text, color="danger", className="mb-0"), no_update

    @app.callback(Output("operator-go", "href", allow_duplicate=True),
                  Input("operator-logout", "n_clicks"), prevent_initial_call=True)
    def logout(clicks: int | None):
        if not clicks:
            raise PreventUpdate
        request = flask.request
        nav.operator.logout(request.cookies.get(web.COOKIE), web.address(request))
        web.set_session(ctx.response, None, request.is_secure)
        return PATH

    @app.callback(Output("operator-status", "children"), Input("operator-tick", "n_intervals"),
                  LANGUAGE)
    @in_language
    def refresh(_tick: int | None):
        return status(nav)
