"""Dash's side of the wire, for tests: the dashboard app with every back-end down (no
process, no port: Flask's test client), and the callback bodies a page sends, over the test
client or real HTTP. Written once; the request guard checks every body as in production."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import dash
from flask.testing import FlaskClient

from dashboard import guard
from dashboard.settings import Settings
from devtools.servers import closed_url


def offline_app(tmp_path: Path, **settings: Any) -> dash.Dash:
    """The real app (``create_app``) with its back-ends down, games in memory, none prepared
    ahead and the statistics in a fresh SQLite file under ``tmp_path``, unless ``settings``
    say otherwise."""
    from dashboard.app import create_app

    return create_app(Settings(**{
        "model_url": closed_url(), "explainer_url": closed_url(),
        "image_server_url": closed_url(), "ready_games": 0, "store_url": "memory:",
        "database_url": f"sqlite:///{tmp_path}/stats.sqlite3", **settings}))


def body_for(callback: dict, values: dict[str, Any]) -> dict:
    """The body a page sends for ``callback`` (as ``/_dash-dependencies`` or the app's
    ``callback_map`` lists it), with ``values`` by "id.property" (None for the rest); the
    inputs given a value are the ones that changed (all of them when none is)."""
    def deps(items: list[dict]) -> list[dict]:
        return [{**d, "value": values.get(f"{d['id']}.{d['property']}")} for d in items]

    inputs = [f"{d['id']}.{d['property']}" for d in callback["inputs"]]
    changed = [name for name in inputs if values.get(name) is not None]  # what was touched
    key = callback["output"]
    outputs = [{"id": i, "property": p} for i, p in guard._outputs(key)]
    return {"output": key, "outputs": outputs if key.startswith("..") else outputs[0],
            "inputs": deps(callback["inputs"]), "state": deps(callback["state"]),
            "changedPropIds": changed or inputs}


def call(app: dash.Dash, output: str, values: dict[str, Any], client: FlaskClient | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """POST, through a test client (a fresh one unless given: its cookies are kept), the body
    for the callback whose output names ``output``; (status, the JSON answer or None)."""
    key = next(k for k in app.callback_map if output in k)
    body = body_for({**app.callback_map[key], "output": key}, values)
    client = client or app.server.test_client()
    response = client.post(guard.CALLBACK_PATH, json=body, headers=headers or {})
    return response.status_code, (json.loads(response.data) if response.data else None)


def post(url: str, body: bytes, content_type: str = "application/json",
         timeout: float = 60) -> tuple[int, str, bytes]:
    """POST ``body`` to a running dashboard's callback path over HTTP; (status, content
    type, body)."""
    request = urllib.request.Request(url + guard.CALLBACK_PATH, data=body, method="POST",
                                     headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def save_values(game_id: Any, clicks: list[int]) -> dict[str, Any]:
    """The finish page's "Save" with the initials picker's ▲/▼ counts."""
    from dashboard import initials

    values = {f"{i}.{p}": c for (i, p), c in zip(initials.CLICKS, clicks, strict=True)}
    return {**values, "initials-save.n_clicks": 1, "initials-game.data": game_id}
