"""German and English in real Chromium: a visitor whose browser prefers German plays a whole
game in German on every page (no English text left on screen, car names as the model names
them) and the game is recorded in German; ``?lang=`` sets the language on any URL and the
switch changes it on the page on screen, and a reload keeps it."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import sync_api
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from dashboard.i18n import catalog_path
from devtools.servers import dashboard

ROUNDS = 2
TIMEOUT_MS = 20_000
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def english_only() -> list[str]:
    """The English texts whose German differs: none of them may show on a German page."""
    from babel.messages.pofile import read_po

    with catalog_path("de", ".po").open("rb") as po:
        messages = [m for m in read_po(po) if isinstance(m.id, str) and m.id]
    return [m.id for m in messages
            if m.id != m.string and len(m.id) > 4 and not PLACEHOLDER.search(m.id)]


@pytest.fixture(scope="module")
def stats_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("stats") / "stats.sqlite3"


@pytest.fixture(scope="module")
def dash_url(model_server_url, explainer_url, image_server_url, stats_file) -> Iterator[str]:
    with dashboard(model_server_url, explainer_url, image_server_url,
                   DASHBOARD_ROUNDS=str(ROUNDS),
                   DASHBOARD_DATABASE_URL=f"sqlite:///{stats_file}") as url:
        yield url


def in_german(page: sync_api.Page, *shown: str) -> None:
    """<html lang="de">, the German ``shown`` on screen, and no English text."""
    expect(page.locator("html")).to_have_attribute("lang", "de")
    for words in shown:
        expect(page.locator("body")).to_contain_text(words)
    body = page.locator("body").inner_text()
    assert [t for t in english_only() if t in body] == []


def test_a_german_visitor_plays_a_whole_game_in_german(dash_url, tab, stats_file):
    page = tab(locale="de-DE")
    page.goto(dash_url + "/")
    expect(page.locator("#play-easy")).to_be_enabled()
    in_german(page, "Wer kennt Autos besser: du oder die KI?", "Leicht", "Profi")
    page.locator("#play-easy").click()
    for n in range(1, ROUNDS + 1):
        expect(page.locator("#choices button")).to_have_count(4)
        in_german(page, "Welches Auto ist das?", f"Runde {n}/{ROUNDS}", "Leicht", "Neues Spiel")
        choice = page.locator("#choice-0")
        name = choice.inner_text()
        choice.click()
        expect(page.locator("#answer")).to_be_visible()
        in_german(page, "Die Antwort", "Wohin die KI geschaut hat", "Die Top 5 der KI",
                  "rot: wohin die KI am meisten geschaut hat",
                  "Wer hat gewonnen?" if n == ROUNDS else "Nächste Runde")
        expect(page.locator("#your-guess .guess-name")).to_have_text(name)  # names as they are
        page.locator("#next").click()
    expect(page.locator("#verdict")).to_have_text(
        re.compile(r"^(Du gewinnst!|Die KI gewinnt!|Unentschieden!)$"))
    in_german(page, "Noch einmal", "Deine Initialen für die Top 10 von heute?")
    with create_engine(f"sqlite:///{stats_file}").connect() as db:
        assert db.execute(text("select language, status from games")).all() == [("de", "finished")]
    page.goto(dash_url + "/attract")
    in_german(page, "Tippen zum Spielen")
    page.goto(dash_url + "/stats")
    in_german(page, "Mensch gegen KI, live", "Die kniffligsten Autos")


def test_lang_in_the_url_and_the_switch_set_the_language_and_a_reload_keeps_it(dash_url, tab):
    page = tab(locale="en-US")
    page.goto(dash_url + "/?lang=de")
    expect(page.locator("#play")).to_be_enabled()
    in_german(page, "Profi")
    page.locator("#play").click()
    expect(page.locator("#make .pick").first).to_be_visible()
    makes = page.locator("#make .pick").all_inner_texts()
    in_german(page, "Zuerst die Marke")
    page.locator("#lang").click()  # "English"
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("body")).to_contain_text("First the make")
    expect(page.locator("#round-label")).to_have_text(f"Round 1/{ROUNDS}")
    assert page.locator("#make .pick").all_inner_texts() == makes  # car names never change
    page.goto(dash_url + "/attempt")  # the game, on a URL that asks for no language
    expect(page.locator("body")).to_contain_text("First the make")
    page.locator("#lang").click()  # "Deutsch"
    in_german(page, "Zuerst die Marke", f"Runde 1/{ROUNDS}")
    page.reload()  # the tab keeps its language
    expect(page.locator("#make .pick").first).to_be_visible()
    in_german(page, "Zuerst die Marke", f"Runde 1/{ROUNDS}")
    expect(page.locator("#lang")).to_have_text("English")
    page.goto(dash_url + "/stats?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("body")).to_contain_text("Humans vs AI, live")
