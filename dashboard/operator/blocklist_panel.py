"""The console's additions to the wall's blocklist: initials (``ABC``) or prefixes (``AB*``)
the data file does not list yet, kept in the database so that every worker refuses them
within seconds, on the picker and on the wall (``EventConfig.allows``). The data file's own
entries stay: they belong to the repository."""
from __future__ import annotations

import dash_bootstrap_components as dbc
import flask
from dash import Dash, Input, Output, State, ctx, html
from dash.exceptions import PreventUpdate
from sqlalchemy.exc import SQLAlchemyError

from dashboard import blocklist
from dashboard.i18n import _, in_language, ngettext
from dashboard.navigation import LANGUAGE, Navigator
from dashboard.operator import web
from dashboard.operator.event_panel import UNAVAILABLE


def added(nav: Navigator) -> list[dict]:
    return [{"label": e, "value": e} for e in nav.event.current.blocked]


def layout(nav: Navigator) -> list:
    files = len(blocklist.file_entries())
    return [html.Section(className="operator-box", children=[
        html.H2(_("Initials kept off the wall"), className="box-title"),
        html.P(ngettext("The list has {n} entry from the game itself; add more here.",
                        "The list has {n} entries from the game itself; add more here.",
                        files).format(n=files)),
        html.Label(_("Three letters, or one or two followed by * for every combination that "
                     "starts with them"), htmlFor="operator-block-entry", className="form-label"),
        html.Div(className="d-flex flex-wrap gap-2 mb-3", children=[
            dbc.Input(id="operator-block-entry", maxLength=3, className="operator-block-entry",
                      autoComplete="off"),
            dbc.Button(_("Add to the list"), id="operator-block-add", color="warning"),
        ]),
        html.Label(_("Added here"), htmlFor="operator-block-pick", className="form-label"),
        html.Div(className="d-flex flex-wrap gap-2", children=[
            dbc.Select(id="operator-block-pick", options=added(nav),
                       className="operator-block-pick"),
            dbc.Button(_("Take off the list"), id="operator-block-remove", color="secondary"),
        ]),
        html.Div(id="operator-block-message", className="mt-2", **{"aria-live": "polite"}),
    ])]


def _said(text: str, colour: str) -> dbc.Alert:
    return dbc.Alert(text, color=colour, className="mb-0")


def register(app: Dash, nav: Navigator) -> None:
    @app.callback(Output("operator-block-message", "children"),
                  Output("operator-block-pick", "options"),
                  Input("operator-block-add", "n_clicks"),
                  Input("operator-block-remove", "n_clicks"),
                  State("operator-block-entry", "value"), State("operator-block-pick", "value"),
                  LANGUAGE, prevent_initial_call=True)
    @in_language
    def change(add: int | None, remove: int | None, text: str | None, picked: str | None):
        adding = ctx.triggered_id == "operator-block-add"
        if not (add if adding else remove):
            raise PreventUpdate
        try:
            entry = blocklist.entry(text if adding else picked or "")
        except ValueError:
            return _said(_("Write three letters A–Z, or one or two letters and *.")
                         if adding else _("Pick an entry first."), "warning"), added(nav)
        try:
            done = nav.event.block(entry) if adding else nav.event.unblock(entry)
        except SQLAlchemyError:
            return _said(_(UNAVAILABLE), "danger"), added(nav)
        if not done:
            text = (_("{entry} is on the list already.") if adding
                    else _("{entry} is not among the entries added here."))
            return _said(text.format(entry=entry), "secondary"), added(nav)
        nav.operator.audit(web.address(flask.request), "block" if adding else "unblock", entry)
        text = (_("{entry} is on the list: the picker refuses it, and the wall leaves it off.")
                if adding else _("{entry} is off the list."))
        return _said(text.format(entry=entry), "success"), added(nav)
