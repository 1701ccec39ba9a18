"""The header's menu and kiosk mode, through the real app's URL callback (Flask's test
client, the request guard included): outside a game the menu links the pages anyone may
open; with DASHBOARD_KIOSK=1 there is no menu, and a page the kiosk does not serve shows the
start page."""
from __future__ import annotations

import json
import re

import pytest

from tests.callbacks import call, offline_app

SESSION = "0123456789abcdef0123456789abcdef"


def visit(dash_app, path: str) -> dict:
    status, body = call(dash_app, "page.children", {
        "url.pathname": path, "url.search": "", "rendered.data": None,
        "session.data": SESSION, "language.data": "en"})
    assert status == 200
    return body["response"]


def links(response: dict) -> list[str]:
    """The menu's links, in their order."""
    return re.findall(r'"href": "([^"]*)"', json.dumps(response["header"]))


@pytest.mark.parametrize("kiosk", [False, True])
def test_the_menu_outside_a_game_and_none_in_kiosk_mode(tmp_path, kiosk):
    from dashboard.app import PAGES

    dash_app = offline_app(tmp_path, kiosk=kiosk)
    home = visit(dash_app, "/")
    menu = [page.PATH for page in PAGES if hasattr(page, "MENU")]
    assert {"/", "/upload", "/explore", "/stats"} <= set(menu)
    assert links(home) == ([] if kiosk else menu)
    assert ('"id": "menu"' in json.dumps(home["header"])) is not kiosk
    wall = visit(dash_app, "/stats")  # the wall: a second screen, open in kiosk mode too
    assert '"id": "wall"' in json.dumps(wall["page"])
    attract = visit(dash_app, "/attract")  # a screensaver: no menu
    assert links(attract) == []


def test_a_page_this_app_does_not_serve_shows_the_start_page(tmp_path):
    response = visit(offline_app(tmp_path, kiosk=True), "/upload")
    assert response["url"]["pathname"] == "/"
    assert '"id": "play"' in json.dumps(response["page"])
