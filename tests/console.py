"""The operator console as tests reach it: the real app with the console on (Flask's test
client, cookies kept) and its sign-in, written once for the console's test modules."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dash

from tests.callbacks import call, offline_app

PASSWORD = "correct horse battery"
SAME = {"Origin": "http://localhost"}  # the test client's own origin


def console(tmp_path: Path, **settings: object) -> dash.Dash:
    """The offline app (tests/callbacks.py) with the console's password set."""
    return offline_app(tmp_path, operator_password=PASSWORD, **settings)


def login(app: dash.Dash, client, password: str = PASSWORD,
          headers: dict | None = None) -> tuple[int, str]:
    """(status, what the answer says) of the sign-in callback."""
    status, body = call(app, "operator-message.children",
                        {"operator-login.n_clicks": 1, "operator-password.value": password},
                        client=client, headers=SAME if headers is None else headers)
    return status, json.dumps(body)


def signed_in(app: dash.Dash):  # -> FlaskClient with a live console session
    client = app.server.test_client()
    status, said = login(app, client)
    assert status == 200, said
    return client


def act(app: dash.Dash, client, output: str, values: dict[str, Any]) -> tuple[int, str]:
    """(status, the answer as JSON text) of a console callback, from our own origin."""
    status, body = call(app, output, {"language.data": "en", **values}, client=client,
                        headers=SAME)
    return status, json.dumps(body, ensure_ascii=False)
