"""The console's panels once the operator has signed in (``pages/operator.py`` shows them): the
stand now (the back-ends, the model version, the pool), the figures (today and all time), and
today's wall, where an entry can be taken off and put back and the day's board cleared. Every
change goes through the scoreboard (which survives a failing database) and into the audit
trail; every callback touches ``operator-`` components, so the guard checks the session first.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
import flask
from dash import Dash, Input, Output, State, ctx, dcc, html
from dash.exceptions import PreventUpdate
from sqlalchemy.exc import SQLAlchemyError

from dashboard.i18n import N_, _, in_language, ngettext
from dashboard.navigation import LANGUAGE, Navigator
from dashboard.operator import stand, web

REFRESH_MS = 5_000
UNAVAILABLE = "–"


def today() -> date:
    """The statistics' day: games count on the UTC day they ended."""
    return datetime.now(UTC).date()


EXPORTS = {"games": N_("Games"), "rounds": N_("Rounds"),
           "upload-verdicts": N_("Own-photo verdicts")}  # operator/export.py's kinds


def export_link(kind: str, first: str | None, last: str | None) -> str:
    """The CSV download of ``kind`` over the days chosen (the server checks them)."""
    query = urlencode({k: v for k, v in (("from", first), ("to", last)) if v})
    return f"/operator/export/{kind}.csv" + (f"?{query}" if query else "")


def layout() -> list:
    return [
        *stand.layout(),
        html.Section(id="operator-figures", className="operator-box"),
        html.Section(className="operator-box", children=[
            html.H2(_("Today's wall"), className="box-title"),
            html.Label(_("Entry"), htmlFor="operator-entry", className="form-label"),
            dbc.Select(id="operator-entry", options=[], className="operator-entry mb-2"),
            html.Div(className="d-flex flex-wrap gap-2", children=[
                dbc.Button(_("Take off the wall"), id="operator-hide", color="warning"),
                dbc.Button(_("Put back"), id="operator-show", color="secondary"),
                dbc.Button(_("Clear today's board"), id="operator-reset", color="danger"),
            ]),
            dcc.ConfirmDialog(id="operator-reset-confirm", message=_(
                "Clear today's board? Every entry of today leaves the wall (the games stay "
                "recorded, and each can be put back).")),
            html.Div(id="operator-wall-message", className="mt-2", **{"aria-live": "polite"}),
        ]),
        html.Section(className="operator-box", children=[
            html.H2(_("Export for a spreadsheet (CSV)"), className="box-title"),
            html.Div(className="d-flex flex-wrap gap-3 mb-2", children=[
                html.Div([html.Label(_("From"), htmlFor="operator-export-from",
                                     className="form-label"),
                          dcc.Input(id="operator-export-from", type="date",
                                    className="form-control")]),
                html.Div([html.Label(_("To"), htmlFor="operator-export-to",
                                     className="form-label"),
                          dcc.Input(id="operator-export-to", type="date",
                                    className="form-control")]),
            ]),
            html.P(_("Leave both empty for all days."), className="mb-2"),
            html.Div(className="d-flex flex-wrap gap-2", children=[
                html.A(_(label), id=f"operator-export-{kind}",
                       href=export_link(kind, None, None), className="btn btn-outline-light")
                for kind, label in EXPORTS.items()]),
        ]),
        dcc.Interval(id="operator-tick", interval=REFRESH_MS),
    ]



def figures(nav: Navigator) -> list:
    """Games, who won, and visitors' verdicts on their own photos: today and all time."""
    title = html.H2(_("The figures"), className="box-title")
    reads = nav.scoreboard.console_reads
    try:
        days = [(_("Today"), "today", reads.totals(today()), reads.upload_verdicts(today())),
                (_("All time"), "all", reads.totals(), reads.upload_verdicts())]
    except SQLAlchemyError:
        return [title, dbc.Alert(_("The statistics database does not answer just now."),
                                 color="danger", id="operator-figures-unavailable")]
    header = html.Thead(html.Tr([html.Th(""), *(html.Th(label) for label, *_ in days)]))
    lines = [(_("Games"), "games"), (_("Visitors won"), "human_wins"),
             (_("The AI won"), "ai_wins"), (_("Draws"), "draws")]
    rows = [html.Tr([html.Td(label), *(html.Td(totals[key], id=f"operator-{key}-{day}")
                                       for _label, day, totals, _v in days)])
            for label, key in lines]
    rows += [html.Tr([html.Td(_("Own photos: the AI was right")), *(
        html.Td(f"{verdicts['right']} / {verdicts['right'] + verdicts['wrong']}",
                id=f"operator-uploads-{day}") for _label, day, _t, verdicts in days)])]
    return [title, dbc.Table([header, html.Tbody(rows)], borderless=True, size="sm")]


def entries(nav: Navigator) -> list[dict]:
    """Today's entries for the picker: initials and points, and whether each is hidden."""
    try:
        found = nav.scoreboard.console_reads.entries(today())
    except SQLAlchemyError:
        return []
    hidden = _("not on the wall")
    return [{"value": e.game_id,
             "label": f"{e.initials}  {e.human_points}:{e.ai_points}"
                      + (f"  ({hidden})" if e.hidden else "")}
            for e in found]


def _said(text: str, colour: str) -> dbc.Alert:
    return dbc.Alert(text, color=colour, className="mb-0")


def register(app: Dash, nav: Navigator) -> None:
    stand.register(app, nav)

    @app.callback(Output("operator-status", "children"), Output("operator-figures", "children"),
                  Output("operator-entry", "options"), Input("operator-tick", "n_intervals"),
                  LANGUAGE)
    @in_language
    def refresh(_tick: int | None):
        return stand.status(nav), figures(nav), entries(nav)

    @app.callback(Output("operator-wall-message", "children"),
                  Output("operator-entry", "options", allow_duplicate=True),
                  Input("operator-hide", "n_clicks"), Input("operator-show", "n_clicks"),
                  State("operator-entry", "value"), LANGUAGE, prevent_initial_call=True)
    @in_language
    def toggle(hide: int | None, show: int | None, game_id: str | None):
        if not (hide or show):
            raise PreventUpdate
        if not game_id:
            return _said(_("Pick an entry first."), "secondary"), entries(nav)
        hidden = ctx.triggered_id == "operator-hide"
        done = nav.scoreboard.set_hidden(game_id, hidden)
        if done is None:
            return _said(_("The statistics database does not answer just now."),
                         "danger"), entries(nav)
        if not done:
            return _said(_("That entry is not on today's wall."), "warning"), entries(nav)
        nav.operator.audit(web.address(flask.request), "hide" if hidden else "show", game_id)
        text = _("Taken off the wall.") if hidden else _("Back on the wall.")
        return _said(text, "success"), entries(nav)

    @app.callback(*(Output(f"operator-export-{kind}", "href") for kind in EXPORTS),
                  Input("operator-export-from", "value"), Input("operator-export-to", "value"),
                  prevent_initial_call=True)
    def export_links(first: str | None, last: str | None):
        return tuple(export_link(kind, first, last) for kind in EXPORTS)

    @app.callback(Output("operator-reset-confirm", "displayed"),
                  Input("operator-reset", "n_clicks"), prevent_initial_call=True)
    def ask(clicks: int | None):
        if not clicks:
            raise PreventUpdate
        return True

    @app.callback(Output("operator-wall-message", "children", allow_duplicate=True),
                  Output("operator-entry", "options", allow_duplicate=True),
                  Input("operator-reset-confirm", "submit_n_clicks"), LANGUAGE,
                  prevent_initial_call=True)
    @in_language
    def clear(confirmed: int | None):
        if not confirmed:
            raise PreventUpdate
        cleared = nav.scoreboard.clear_board(today())
        if cleared is None:
            return _said(_("The statistics database does not answer just now."),
                         "danger"), entries(nav)
        nav.operator.audit(web.address(flask.request), "clear board", f"{cleared} entries")
        return _said(ngettext("Today's board is clear: {n} entry taken off.",
                              "Today's board is clear: {n} entries taken off.",
                              cleared).format(n=cleared), "success"), entries(nav)
