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
from dashboard.operator import blocklist_panel, console, event_panel, web

PATH = web.PAGE


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


def signed_in(nav: Navigator) -> html.Div:
    return html.Div(id="operator-console", className="operator", children=[
        html.Div(className="d-flex justify-content-between align-items-center", children=[
            html.H1(_("Operator console"), className="operator-title"),
            dbc.Button(_("Sign out"), id="operator-logout", color="secondary",
                       className="text-nowrap"),
        ]),
        *console.layout(),
        *event_panel.layout(nav),
        *blocklist_panel.layout(nav),
        dcc.Location(id="operator-go", refresh=True),
    ])


def view(nav: Navigator, _game: Game | None) -> html.Div:
    if not nav.operator.enabled:
        return off()
    if nav.operator.signed_in(flask.request.cookies.get(web.COOKIE)):
        return signed_in(nav)
    return sign_in()


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

    console.register(app, nav)
    event_panel.register(app, nav)
    blocklist_panel.register(app, nav)
