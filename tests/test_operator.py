"""The operator console's protections, tried as an attacker would, through the real app and its
request guard (Flask's test client: the requests a browser sends, cookies kept): off without a
password; the lockout; every ``operator-`` callback (enumerated from the app's own callback map)
refused without a session, from another origin, with a forged or an expired cookie; the cookie's
flags; the audit trail; and no console in the kiosk profile."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import dash
import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from dashboard import guard
from dashboard.operator import stand, web
from dashboard.stats.schema import AuditEntry, OperatorSession
from devtools.ports import free_ports
from devtools.servers import closed_url, dashboard
from tests.callbacks import body_for, call, offline_app
from tests.console import PASSWORD, SAME, console, login
from tests.data import record_todays_games

SESSION = "0123456789abcdef0123456789abcdef"


def operator_callbacks(app: dash.Dash) -> list[str]:
    """Every callback that touches a console component, from the app's own callback map."""
    return [key for key, cb in app.callback_map.items()
            if web.is_operator_callback({**cb, "output": key})]


def send(app: dash.Dash, client, key: str, headers: dict) -> int:
    values = {"operator-login.n_clicks": 1, "operator-logout.n_clicks": 1,
              "operator-tick.n_intervals": 1, "operator-password.value": PASSWORD,
              "operator-hide.n_clicks": 1, "operator-reset.n_clicks": 1,
              "operator-reset-confirm.submit_n_clicks": 1, "language.data": "en",
              "operator-event-save.n_clicks": 1, "operator-event-name.value": "Auto Show",
              "operator-logo-remove.n_clicks": 1, "operator-event-makes-none.n_clicks": 1,
              "operator-block-add.n_clicks": 1, "operator-block-entry.value": "QQQ",
              **{f"operator-restart-{key}.n_clicks": 1 for key in stand.KEYS},
              **{f"operator-restart-confirm-{key}.submit_n_clicks": 1 for key in stand.KEYS}}
    body = body_for({**app.callback_map[key], "output": key}, values)
    return client.post("/_dash-update-component", json=body, headers=headers).status_code


def audit(tmp_path: Path) -> list[tuple[str, str]]:
    engine = create_engine(f"sqlite:///{tmp_path}/stats.sqlite3")
    with Session(engine) as session:
        return [(e.action, e.detail) for e in session.scalars(select(AuditEntry)
                                                               .order_by(AuditEntry.id))]


def test_without_a_password_the_console_is_off_and_says_how_to_turn_it_on(tmp_path):
    app = offline_app(tmp_path)
    status, body = call(app, "page.children", {
        "url.pathname": "/operator", "url.search": "", "rendered.data": None,
        "session.data": SESSION, "language.data": "en"})
    assert status == 200
    page = json.dumps(body["response"]["page"])
    assert "operator-off" in page and "DASHBOARD_OPERATOR_PASSWORD" in page
    assert "operator-password" not in page
    client = app.server.test_client()
    assert login(app, client, "")[0] == 403
    for key in operator_callbacks(app):
        assert send(app, client, key, SAME) == 403, key


def test_the_menu_never_links_the_console(tmp_path):
    app = console(tmp_path)
    status, body = call(app, "page.children", {
        "url.pathname": "/", "url.search": "", "rendered.data": None,
        "session.data": SESSION, "language.data": "en"})
    assert status == 200 and "/operator" not in json.dumps(body["response"])


def test_the_kiosk_serves_no_console_and_no_sign_in(tmp_path):
    app = console(tmp_path, kiosk=True)
    assert operator_callbacks(app) == []  # nothing to sign in with
    status, body = call(app, "page.children", {
        "url.pathname": "/operator", "url.search": "", "rendered.data": None,
        "session.data": SESSION, "language.data": "en"})
    assert status == 200 and body["response"]["url"]["pathname"] == "/"
    assert "operator-" not in json.dumps(body["response"]["page"])


def test_the_kiosk_serves_the_console_only_on_its_own_port(tmp_path):
    """``make kiosk``: the big screen shows the game's port, where no session can be had; the
    owner's phone or laptop opens the console's port."""
    record_todays_games(f"sqlite:///{tmp_path}/stats.sqlite3")
    app = console(tmp_path, kiosk=True, console_port=8052)
    game, own = "http://localhost", "http://localhost:8052"
    visit = {"url.pathname": "/operator", "url.search": "", "rendered.data": None,
             "session.data": SESSION, "language.data": "en"}
    key = next(k for k in app.callback_map if "page.children" in k)

    def page(base: str) -> str:
        client = app.server.test_client()
        answer = client.post(guard.CALLBACK_PATH, base_url=base, headers={"Origin": base},
                             json=body_for({**app.callback_map[key], "output": key}, visit))
        return answer.get_data(as_text=True)

    assert "operator-" not in page(game) and "operator-password" in page(own)
    kiosk_screen = app.server.test_client()
    assert login(app, kiosk_screen)[0] == 403  # even with the right password, from its origin
    assert kiosk_screen.get_cookie("operator_session") is None
    assert kiosk_screen.get("/operator/export/games.csv").status_code == 403
    phone = app.server.test_client()
    key = next(k for k in app.callback_map if "operator-message.children" in k)
    answer = phone.post(guard.CALLBACK_PATH, base_url=own, headers={"Origin": own}, json=body_for(
        {**app.callback_map[key], "output": key},
        {"operator-login.n_clicks": 1, "operator-password.value": PASSWORD}))
    assert answer.status_code == 200 and phone.get_cookie("operator_session") is not None
    assert phone.get("/operator/export/games.csv", base_url=own).status_code == 200
    # the session does not open the console on the game's port either
    assert phone.get("/operator/export/games.csv").status_code == 403
    assert [action for action, _ in audit(tmp_path)] == ["login", "export"]


def test_every_operator_callback_refuses_without_a_session_and_runs_with_one(tmp_path):
    app = console(tmp_path)
    keys = operator_callbacks(app)
    assert len(keys) >= 3, keys  # sign in, sign out, the status
    client = app.server.test_client()
    for key in keys:
        if "operator-message" not in key:  # the sign-in itself needs no session
            assert send(app, client, key, SAME) == 401, key
    assert audit(tmp_path) == []  # nothing happened
    status, said = login(app, client, PASSWORD)
    assert status == 200
    cookie = client.get_cookie(web.COOKIE)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    for key in keys:
        if "operator-go" not in key:  # the sign-out last
            assert send(app, client, key, SAME) == 200, key
    # the event's settings answer that the pool cannot be read (the image server is down)
    assert [action for action, _ in audit(tmp_path)] == ["login", "clear board", "logo", "block"]


def test_another_origin_is_refused_even_with_a_session(tmp_path):
    app = console(tmp_path)
    client = app.server.test_client()
    assert login(app, client, PASSWORD)[0] == 200
    status_key = next(k for k in operator_callbacks(app) if "operator-status" in k)
    assert send(app, client, status_key, SAME) == 200
    for headers in ({"Origin": "http://evil.example"}, {"Referer": "http://evil.example/x"},
                    {}, {**SAME, "Sec-Fetch-Site": "cross-site"}):
        assert send(app, client, status_key, headers) == 403, headers
    assert login(app, app.server.test_client(), PASSWORD,
                 {"Origin": "http://evil.example"})[0] == 403


def test_five_wrong_passwords_lock_the_address_out_the_right_one_included(tmp_path):
    app = console(tmp_path, operator_lockout_seconds=1.5)
    client = app.server.test_client()
    for _ in range(4):
        status, said = login(app, client, "wrong")
        assert status == 200 and "Wrong password." in said
    status, said = login(app, client, "wrong")  # the fifth
    assert "Too many wrong passwords" in said
    status, said = login(app, client, PASSWORD)  # refused while locked out
    assert "Too many wrong passwords" in said and client.get_cookie(web.COOKIE) is None
    time.sleep(1.6)
    status, said = login(app, client, PASSWORD)  # the lockout is over
    assert status == 200 and client.get_cookie(web.COOKIE) is not None
    actions = [action for action, _ in audit(tmp_path)]
    assert actions == ["login failed"] * 5 + ["login refused", "login"]


def test_a_forged_cookie_is_refused(tmp_path):
    app = console(tmp_path)
    client = app.server.test_client()
    assert login(app, client, PASSWORD)[0] == 200
    status_key = next(k for k in operator_callbacks(app) if "operator-status" in k)
    real = client.get_cookie(web.COOKIE).value
    signed_by_a_guess = URLSafeSerializer("guess", salt="operator-session").dumps("token")
    for forged in (real[:-2] + ("AA" if not real.endswith("AA") else "BB"), "x", real + "x",
                   signed_by_a_guess):
        client.set_cookie(web.COOKIE, forged)
        assert send(app, client, status_key, SAME) == 401, forged


def test_another_password_signs_every_console_out(tmp_path):
    app = console(tmp_path)
    client = app.server.test_client()
    assert login(app, client, PASSWORD)[0] == 200
    cookie = client.get_cookie(web.COOKIE).value
    other = offline_app(tmp_path, operator_password="another password entirely")
    other_client = other.server.test_client()
    other_client.set_cookie(web.COOKIE, cookie)
    status_key = next(k for k in operator_callbacks(other) if "operator-status" in k)
    assert send(other, other_client, status_key, SAME) == 401


def test_an_idle_session_expires(tmp_path):
    app = console(tmp_path, operator_idle_seconds=1)
    client = app.server.test_client()
    assert login(app, client, PASSWORD)[0] == 200
    status_key = next(k for k in operator_callbacks(app) if "operator-status" in k)
    assert send(app, client, status_key, SAME) == 200
    time.sleep(1.3)
    assert send(app, client, status_key, SAME) == 401
    engine = create_engine(f"sqlite:///{tmp_path}/stats.sqlite3")
    with Session(engine) as session:  # the expired session is gone, not just refused
        assert session.scalar(select(func.count()).select_from(OperatorSession)) == 0


def test_signing_out_ends_the_session(tmp_path):
    app = console(tmp_path)
    client = app.server.test_client()
    assert login(app, client, PASSWORD)[0] == 200
    cookie = client.get_cookie(web.COOKIE).value
    keys = operator_callbacks(app)
    logout = next(k for k in keys if "operator-go" in k and "operator-message" not in k)
    assert send(app, client, logout, SAME) == 200
    assert client.get_cookie(web.COOKIE) is None  # cleared by the server
    client.set_cookie(web.COOKIE, cookie)  # and the old cookie is worthless now
    status_key = next(k for k in keys if "operator-status" in k)
    assert send(app, client, status_key, SAME) == 401
    assert [action for action, _ in audit(tmp_path)] == ["login", "logout"]


def test_the_password_hash_may_stand_in_for_the_password(tmp_path):
    from werkzeug.security import generate_password_hash

    app = offline_app(tmp_path, operator_password_hash=generate_password_hash(PASSWORD))
    client = app.server.test_client()
    assert "Wrong password." in login(app, client, PASSWORD[::-1])[1]
    assert login(app, client, PASSWORD)[0] == 200 and client.get_cookie(web.COOKIE)


@pytest.mark.parametrize("password", ["", "x" * 1025, None])
def test_odd_passwords_are_refused_cleanly(tmp_path, password):
    app = console(tmp_path)
    client = app.server.test_client()
    status, said = login(app, client, password)  # type: ignore[arg-type]
    assert status in (200, 400) and client.get_cookie(web.COOKIE) is None


def test_an_entry_leaves_the_wall_comes_back_and_the_board_clears(tmp_path):
    from dashboard.stats import open_stats

    database = f"sqlite:///{tmp_path}/stats.sqlite3"
    record_todays_games(database)
    stats = open_stats(database)
    ended = datetime.now(UTC)
    app = console(tmp_path)
    client = app.server.test_client()
    assert login(app, client, PASSWORD)[0] == 200

    def wall() -> list[str]:
        return [e.initials for e in stats.top(ended.date())]

    def toggle(button: str, game_id: str | None) -> str:
        status, body = call(app, "operator-wall-message.children", {
            f"{button}.n_clicks": 1, "operator-entry.value": game_id, "language.data": "en"},
            client=client, headers=SAME)
        assert status == 200
        return json.dumps(body["response"])

    assert wall() == ["ANN", "BOB"]
    assert "Taken off the wall." in toggle("operator-hide", "a" * 16)
    assert wall() == ["BOB"]
    assert "Back on the wall." in toggle("operator-show", "a" * 16)
    assert wall() == ["ANN", "BOB"]
    assert "not on today's wall" in toggle("operator-hide", "c" * 16)
    assert "Pick an entry first." in toggle("operator-hide", None)
    status, body = call(app, "operator-reset-confirm.displayed", {"operator-reset.n_clicks": 1},
                        client=client, headers=SAME)
    assert status == 200 and wall() == ["ANN", "BOB"]  # asking is not clearing
    clear = next(key for key, cb in app.callback_map.items()
                 if cb["inputs"][0]["id"] == "operator-reset-confirm")
    response = client.post("/_dash-update-component", headers=SAME, json=body_for(
        {**app.callback_map[clear], "output": clear},
        {"operator-reset-confirm.submit_n_clicks": 1, "language.data": "en"}))
    assert response.status_code == 200 and "2 entries taken off" in response.get_data(True)
    assert wall() == []
    assert [(a, d) for a, d in audit(tmp_path) if a != "login"] == [
        ("hide", "a" * 16), ("show", "a" * 16), ("clear board", "2 entries")]


def test_the_console_offers_every_export_there_is():
    from dashboard.operator import console
    from dashboard.stats import export

    assert set(console.EXPORTS) == set(export.EXPORTS)
    assert console.export_link("games", "2026-12-01", None) == \
        "/operator/export/games.csv?from=2026-12-01"


def test_under_gunicorn_the_port_is_the_sockets_not_the_host_header(tmp_path):
    """A request to the game's port that names the console's port in ``Host`` and ``Origin``
    is still on the game's port."""
    game_port, console_port = free_ports(2)
    own = f"http://127.0.0.1:{console_port}"
    with dashboard(closed_url(), closed_url(), closed_url(), port=game_port,
                   console_port=console_port, DASHBOARD_KIOSK="1",
                   DASHBOARD_OPERATOR_PASSWORD=PASSWORD) as url:
        app = console(tmp_path)  # the same callbacks, for the sign-in's body
        key = next(k for k in app.callback_map if "operator-message.children" in k)
        body = json.dumps(body_for({**app.callback_map[key], "output": key},
                                   {"operator-login.n_clicks": 1,
                                    "operator-password.value": PASSWORD})).encode()

        def sign_in(base: str) -> tuple[int, str]:
            request = urllib.request.Request(
                base + guard.CALLBACK_PATH, data=body, method="POST",
                headers={"Content-Type": "application/json", "Origin": own,
                         "Host": f"127.0.0.1:{console_port}"})
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    return answer.status, answer.headers.get("Set-Cookie", "")
            except urllib.error.HTTPError as refused:
                return refused.code, refused.headers.get("Set-Cookie", "")

        assert sign_in(url) == (403, "")
        status, cookie = sign_in(own)
        assert status == 200 and cookie.startswith(web.COOKIE + "=")
