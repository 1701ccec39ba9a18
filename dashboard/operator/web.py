"""The console's HTTP edge: ``authorize``, which the request guard runs before every Dash
callback that touches an ``operator-`` component (the same origin, the console on, and a live
session, except for the login itself), and the session cookie, set and cleared by the server
(``HttpOnly``: no script ever sees it)."""
from __future__ import annotations

from urllib.parse import urlsplit

import flask

from dashboard.errors import json_error
from dashboard.game import OPERATOR
from dashboard.operator.auth import OperatorAuth

COOKIE = "operator_session"
PREFIX = "operator-"  # every console component's id starts with it
PAGE = OPERATOR
LOGIN = ("operator-login", "n_clicks")  # the one callback that needs no session


def same_origin(request: flask.Request) -> bool:
    """Did the request come from one of our own pages? (``Origin``, else ``Referer``; a request
    with neither is refused: every browser sends ``Origin`` on a POST.)"""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source:
        return False
    parts = urlsplit(source)
    return f"{parts.scheme}://{parts.netloc}" == request.host_url.rstrip("/")


def arrived_on(request: flask.Request) -> int | None:
    """The dashboard's port the request's connection came in on. Under gunicorn its socket
    says so (``SERVER_PORT`` there follows the ``Host`` header, which a client writes);
    elsewhere (Flask's own server, the test client) ``SERVER_PORT`` is the server's."""
    sock = request.environ.get("gunicorn.socket")
    if sock is not None:
        try:
            return sock.getsockname()[1]
        except OSError:
            return None
    port = str(request.environ.get("SERVER_PORT", ""))
    return int(port) if port.isdigit() else None


def here(auth: OperatorAuth, request: flask.Request) -> bool:
    """Is the console on, and served where this request came in? (With a console port, only
    there: the kiosk's big screen shows the game's port, and no touch leads to another.)"""
    return auth.enabled and (not auth.console_port or arrived_on(request) == auth.console_port)


def address(request: flask.Request) -> str:
    return request.remote_addr or "unknown"


def authorize(auth: OperatorAuth, request: flask.Request,
              callback: dict) -> flask.Response | None:
    """None if ``request`` may run the console's ``callback``; else the JSON refusal: 403
    from another origin, on the game's port when the console has its own, or with the
    console off, 401 without a live session (the login
    needs none)."""
    if not auth.enabled:
        return json_error(403, "the operator console is off")
    if not here(auth, request):
        return json_error(403, "the operator console is not served on this port")
    if not same_origin(request):
        return json_error(403, "requests from another origin are refused")
    login = [(d["id"], d["property"]) for d in callback["inputs"]] == [LOGIN]
    if not login and not auth.signed_in(request.cookies.get(COOKIE)):
        return json_error(401, "sign in to the operator console first")
    return None


def set_session(response: object, cookie: str | None, secure: bool) -> None:
    """Put the session cookie on a callback's response (Dash's ``ctx.response``), or clear
    it (``cookie`` None)."""
    response.set_cookie(COOKIE, cookie or "", httponly=True, samesite="Strict", secure=secure,
                        path="/", **({} if cookie else {"max_age": 0}))


def is_operator_callback(callback: dict) -> bool:
    """Does the callback read or write a console component?"""
    ids = [d["id"] for d in callback["inputs"] + callback["state"]]
    ids += [o.split("@")[0].rsplit(".", 1)[0] for o in callback["output"].strip(".").split("...")]
    return any(isinstance(i, str) and i.startswith(PREFIX) for i in ids)

