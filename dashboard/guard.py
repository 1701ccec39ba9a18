"""What a request to the dashboard may carry, checked before Dash sees it.

Dash trusts the browser: a callback body of the wrong shape is a framework 500 (HTML), and any
value of any size reaches the callbacks. Here every ``/_dash-update-component`` body is checked
against the callback it names (the same inputs and states, in order) and every value against
the type its property takes, so bad input is a JSON 4xx and stores nothing. Every error the
app answers is JSON ``{"error": ...}``, without exception text.
"""
from __future__ import annotations

import json
import logging
import math
import re
import secrets
from collections.abc import Callable
from typing import Any

import dash
import flask
from dash.exceptions import DependencyException
from gunicorn.http.errors import ParseException
from werkzeug.exceptions import HTTPException

from dashboard import metrics
from dashboard.errors import json_error
from dashboard.game import MODES
from dashboard.i18n import LANGUAGES
from dashboard.operator import web as operator_web
from dashboard.operator.auth import OperatorAuth
from dashboard.store import StoreBusy

log = logging.getLogger(__name__)
STORE_RETRY_AFTER_S = 2  # a store that failed: its timeout, about, before the next try
CALLBACK_PATH = "/_dash-update-component"
SESSION_ID = re.compile(r"[0-9a-f]{32}")
GAME_ID = re.compile(r"[0-9a-f]{16}")  # dashboard.game.Game.id: secrets.token_hex(8)
ROOM_CODE = re.compile(r"[A-Z]{4}")  # dashboard.show.timeline.new_code
PLAYER_ID = re.compile(r"[A-Za-z0-9_-]{16}")  # secrets.token_urlsafe(12)
MAX_COUNT = 10**9
Check = Callable[[Any], bool]


class BadCallback(ValueError):
    """A callback request that no page of ours sends. ``reset``: the session id is unusable,
    so the page (assets/kiosk.js) forgets it and starts over with a fresh one."""

    def __init__(self, message: str, reset: bool = False) -> None:
        super().__init__(message)
        self.reset = reset


def new_session_id() -> str:
    """A session id minted by the server: 128 random bits as 32 hex digits."""
    return secrets.token_hex(16)


def is_session_id(value: Any) -> bool:
    return isinstance(value, str) and SESSION_ID.fullmatch(value) is not None


def _count(value: Any) -> bool:
    """n_clicks, n_intervals: None before the first, then a small non-negative int."""
    return value is None or (type(value) is int and 0 <= value < MAX_COUNT)


def is_game_id(value: Any) -> bool:
    return isinstance(value, str) and GAME_ID.fullmatch(value) is not None


def _index(value: Any) -> bool:
    return type(value) is int and 0 <= value < 100


def _position(value: Any) -> bool:
    """A position in a list the server holds (it wraps it into range itself)."""
    return value is None or (type(value) is int and 0 <= value < 10_000)


def _text(max_length: int) -> Check:
    def check(value: Any) -> bool:
        return value is None or (isinstance(value, str) and len(value) <= max_length)

    return check


def _strings(max_items: int, max_length: int) -> Check:
    """A checklist's value: None, or a short list of short strings."""
    def check(value: Any) -> bool:
        return value is None or (isinstance(value, list) and len(value) <= max_items
                                 and all(isinstance(v, str) and len(v) <= max_length
                                         for v in value))

    return check


def _number_or_text(value: Any) -> bool:
    """A number field's value: None, a finite number, or the text a browser left in it."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return math.isfinite(value)
    return value is None or (isinstance(value, str) and len(value) <= 32)


def _room_code(value: Any) -> bool:
    return isinstance(value, str) and ROOM_CODE.fullmatch(value) is not None


def _show_player(value: Any) -> bool:
    """``{"code": <room code>, "id": <the phone's secret>}``, as the join page stored it."""
    return (isinstance(value, dict) and set(value) == {"code", "id"}
            and _room_code(value["code"]) and isinstance(value["id"], str)
            and PLAYER_ID.fullmatch(value["id"]) is not None)


# Every property a callback reads, with what it may hold: one place, and a test checks that
# each registered callback's inputs and states are all here.
PROPS: dict[tuple[str, str], Check] = {
    ("session", "data"): is_session_id,
    ("url", "pathname"): _text(256),
    ("rendered", "data"): _text(256),
    ("round-index", "data"): _index,
    ("make", "value"): _text(100),
    ("model", "value"): _text(200),
    ("initials-game", "data"): is_game_id,  # rendered into the finish page by the server
    ("prepare-mode", "data"): lambda value: value in MODES,
    ("language", "data"): lambda value: value is None or value in LANGUAGES,  # None: English
    ("url", "search"): _text(256),
    # /explore (pages/explore.py): the make filter, and the batch on screen (its tiles are
    # n_clicks: the batch comes from the store by the tile's number)
    ("explore-make", "value"): _text(100),
    ("explore-batch", "data"): lambda value: value is None or is_game_id(value),
    # /upload (pages/upload.py): the photo as a data: URL (its size is capped per request
    # below, by LARGE_INPUTS), and the upload whose AI answer the visitor judges.
    ("upload-file", "data"): lambda value: value is None or isinstance(value, str),
    ("upload-id", "data"): is_game_id,
    ("upload-top1", "data"): _text(255),
    # /model (pages/model_card.py): the open tab, the car search, the mistake and the page of
    # confused pairs on screen (positions in the model card, which the server holds)
    ("model-tabs", "data"): _text(40),
    ("model-classes-search", "value"): _text(100),
    ("model-classes-index", "data"): _position,
    ("model-mistake-index", "data"): _position,
    ("model-pairs-index", "data"): _position,
    # Crowd vs AI (pages/show.py, pages/join.py): the screen's room code; a phone's place in
    # a show (kept in its local storage), what it typed, and what its page shows
    ("show-id", "data"): lambda value: value is None or _room_code(value),
    ("show-player", "data"): lambda value: value is None or _show_player(value),
    ("join-code", "value"): _text(16),
    ("join-name", "value"): _text(64),
    ("join-seen", "data"): _text(200),
    ("join-round", "data"): lambda value: value is None or _index(value),
    # /operator (pages/operator.py): the password, checked on the server (operator/auth.py)
    ("operator-password", "value"): _text(1024),
    ("operator-entry", "value"): lambda value: value is None or is_game_id(value),
    ("operator-export-from", "value"): _text(10),  # a date; the export checks it
    ("operator-export-to", "value"): _text(10),
    # the event's settings (operator/event_panel.py checks each in the owner's words)
    ("operator-event-name", "value"): _text(1000),
    ("operator-event-accent", "value"): _text(100),
    ("operator-event-language", "value"): _text(10),
    ("operator-event-idle", "value"): _number_or_text,
    ("operator-event-modes", "value"): _strings(len(MODES), 20),
    ("operator-event-makes", "value"): _strings(500, 100),
    ("operator-logo-upload", "contents"): lambda value: value is None or isinstance(value, str),
    ("operator-block-entry", "value"): _text(100),
    ("operator-block-pick", "value"): _text(3),
}
# Inputs that carry a file: only a callback reading one of these may send a body larger than
# the cap on every other request, up to the upload cap.
LARGE_INPUTS = {("upload-file", "data"), ("operator-logo-upload", "contents")}
ANY_ID_PROPS: dict[str, Check] = {"n_clicks": _count, "n_intervals": _count,
                                  "submit_n_clicks": _count}  # a confirmation's "OK"


def prop_check(component_id: Any, prop: str) -> Check | None:
    if not isinstance(component_id, str):
        return None
    return PROPS.get((component_id, prop)) or ANY_ID_PROPS.get(prop)


def _dependencies(entries: Any, registered: list[dict], what: str) -> None:
    """``entries`` must name exactly the registered dependencies, with values of their type."""
    if not isinstance(entries, list) or len(entries) != len(registered):
        raise BadCallback(f"'{what}' must list the callback's {len(registered)} {what}")
    for entry, expected in zip(entries, registered, strict=True):
        if (not isinstance(entry, dict) or entry.get("id") != expected["id"]
                or entry.get("property") != expected["property"]):
            raise BadCallback(f"'{what}' does not match the callback")
        check = prop_check(expected["id"], expected["property"])
        if check is None or not check(entry.get("value")):
            raise BadCallback(f"invalid value for {expected['id']}.{expected['property']}",
                              reset=expected["id"] == "session")


def _outputs(output: str) -> list[tuple[str, str]]:
    """(id, property) of each output named in a callback's key: ``"page.children"`` or, for
    several, ``"..page.children@<hash>...url.pathname@<hash>.."``."""
    names = output[2:-2].split("...") if output.startswith("..") else [output]
    return [tuple(name.split("@")[0].rsplit(".", 1)) for name in names]


def check_callback(body: Any, callback_map: dict[str, dict]) -> None:
    """Raise ``BadCallback`` unless ``body`` is a request one of our pages could send."""
    if not isinstance(body, dict):
        raise BadCallback("the body must be a JSON object")
    output = body.get("output")
    if (not isinstance(output, str) or output not in callback_map
            or "callback" not in callback_map[output]):  # a clientside one runs in the page
        raise BadCallback("unknown callback")
    callback = callback_map[output]
    _dependencies(body.get("inputs"), callback["inputs"], "inputs")
    _dependencies(body.get("state", []), callback["state"], "state")
    expected = _outputs(output)
    outputs = body.get("outputs")
    if len(expected) == 1 and not output.startswith(".."):
        outputs = [outputs]  # a single output is sent as an object, several as a list
    if not isinstance(outputs, list) or len(outputs) != len(expected):
        raise BadCallback("'outputs' does not match the callback")
    for item, (component, prop) in zip(outputs, expected, strict=True):
        if not (isinstance(item, dict) and item.get("id") == component
                and isinstance(item.get("property"), str)
                and item["property"].split("@")[0] == prop):
            raise BadCallback("'outputs' does not match the callback")
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        raise BadCallback("'changedPropIds' must be a list of strings")


def takes_a_file(body: dict, callback_map: dict[str, dict]) -> bool:
    """Does the (checked) callback ``body`` names read one of ``LARGE_INPUTS``?"""
    return any((item["id"], item["property"]) in LARGE_INPUTS
               for item in callback_map[body["output"]]["inputs"])


def install(app: dash.Dash, operator: OperatorAuth, max_body_bytes: int,
            max_upload_bytes: int | None = None) -> None:
    """Check callback bodies before Dash, cap every body, answer every error as JSON. A
    callback that takes a file (``LARGE_INPUTS``) may send up to ``max_upload_bytes``; every
    other request stays under ``max_body_bytes``. A callback of the operator's console runs
    only from our own pages with a live operator session (``operator.web.authorize``)."""
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    upload_cap = max(max_body_bytes, max_upload_bytes or 0)

    @server.before_request
    def check_request() -> flask.Response | None:
        if flask.request.path != CALLBACK_PATH or flask.request.method != "POST":
            return None
        flask.request.max_content_length = upload_cap  # which callback it is: in the body
        try:
            data = flask.request.get_data(cache=True)
            body = json.loads(data)
            check_callback(body, app.callback_map)
        except BadCallback as exc:
            return json_error(400, str(exc), **({"reset": "session"} if exc.reset else {}))
        except (ValueError, RecursionError):  # not JSON, or absurdly deep
            return json_error(400, "the body must be JSON")
        except OSError:  # the client sent less than it announced (socket timeout)
            return json_error(408, "the request body did not arrive in time")
        if len(data) > max_body_bytes and not takes_a_file(body, app.callback_map):
            return json_error(413, "Request Entity Too Large")
        # The callback's name in the metrics: a registered output's id, never the client's.
        flask.g.callback = str(_outputs(body["output"])[0][0])
        callback = {**app.callback_map[body["output"]], "output": body["output"]}
        if operator_web.is_operator_callback(callback):
            return operator_web.authorize(operator, flask.request, callback)
        return None

    @server.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> flask.Response:
        return json_error(exc.code or 500, exc.name)

    @server.errorhandler(DependencyException)
    def no_such_script(_exc: DependencyException) -> flask.Response:
        """``/_dash-component-suites/`` serves only the scripts Dash registered: any other
        path (a module's source, a traversal) is unknown, like every other unknown path."""
        return json_error(404, "Not Found")

    @server.errorhandler(ParseException)
    def unreadable_body(exc: ParseException) -> flask.Response:
        """A body gunicorn cannot read (a malformed chunk size, a missing chunk end): the
        client's fault, as the back-ends answer it."""
        log.warning("malformed request body", extra={"error": type(exc).__name__})
        return json_error(400, "malformed request body")

    @server.errorhandler(StoreBusy)
    def store_busy(exc: StoreBusy) -> flask.Response:
        """The game store is down, frozen or held: nothing is lost, try again shortly."""
        log.warning("game store busy", extra={"error": str(exc)})
        metrics.store_errors.inc()
        response = json_error(503, "the game store is busy: try again in a moment")
        response.headers["Retry-After"] = str(STORE_RETRY_AFTER_S)
        return response

    @server.errorhandler(Exception)
    def crash(exc: Exception) -> flask.Response:
        log.exception("unhandled error on %s %s", flask.request.method, flask.request.path)
        return json_error(500, "internal server error")
