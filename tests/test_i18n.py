"""English and German: the catalog matches the code (nothing untranslated, nothing stale), the
compiled catalog matches the .po, and a visitor starts in the language ``?lang=``, the stand's
setting or the browser asks for, served by the real app through Flask's test client."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from dashboard import i18n
from dashboard.i18n import CATALOGS, LANGUAGES, SOURCE, _, ngettext, use
from dashboard.settings import Settings
from tests.callbacks import offline_app

REPO = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def texts_in_code() -> set[str | tuple[str, str]]:
    """Every text the code marks for translation, found as `make translations` finds them."""
    with (CATALOGS / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            REPO, method_map, options_map):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def catalog(language: str):
    with i18n.catalog_path(language, ".po").open("rb") as po:
        return read_po(po, locale=language)


@pytest.fixture(scope="module")
def code_texts() -> set:
    return texts_in_code()


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != SOURCE])
def test_every_text_is_translated_and_none_is_stale(language, code_texts):
    po = catalog(language)
    ids = {m.id if isinstance(m.id, str) else tuple(m.id) for m in po if m.id}
    assert len(code_texts) > 50  # the extraction found the pages' texts
    assert sorted(map(str, code_texts - ids)) == [], "untranslated: run `make translations`"
    assert sorted(map(str, ids - code_texts)) == [], "stale: run `make translations`"
    for message in po:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        assert all(strings) and not message.fuzzy, f"untranslated: {message.id!r}"
        # The same placeholders, or str.format fails (or says less) in that language.
        assert {p for s in strings for p in PLACEHOLDER.findall(s)} == {
            p for s in sources for p in PLACEHOLDER.findall(s)}, message.id


def test_the_compiled_catalog_is_the_one_in_the_repository():
    """`make setup` compiles the .po: a stale .mo would show old texts."""
    i18n.translations.cache_clear()
    for message in catalog("de"):
        if not message.id:
            continue
        with use("de"):
            if isinstance(message.id, tuple):
                assert ngettext(*message.id, 1) == message.string[0]
                assert ngettext(*message.id, 2) == message.string[1]
            else:
                assert _(message.id) == message.string


def test_german_plurals_and_numbers_are_written_the_german_way():
    from dashboard.pages.attempt import model_hint
    from dashboard.pages.result import share_right

    with use("de"):
        assert model_hint("Daewoo", 1) == "1 Daewoo-Modell: tippe es an."
        # 42 % with a no-break space, as German typesetting has it
        assert share_right(0.425) == "42\u00a0% der Besucher haben dieses Auto genau erkannt."
    with use("en"):
        assert share_right(0.425) == "42% of visitors named this car exactly."
    with use("xx"):  # anything unknown is English
        assert i18n.current() == "en"


@pytest.mark.parametrize("accepted, expected", [
    (["de-DE", "en"], "de"), (["de-AT"], "de"), (["fr", "en-GB"], "en"), (["fr"], "en"), ([], "en"),
])
def test_the_browser_preference_picks_a_language_we_speak(accepted, expected):
    assert i18n.negotiate(accepted) == expected


# ---- the language a visitor starts in, through the real app --------------------------------

def client(tmp_path: Path, **settings):
    return offline_app(tmp_path, **settings).server.test_client()


def html_lang(response) -> str:
    return re.search(r'<html lang="([a-z]+)"', response.get_data(as_text=True)).group(1)


def layout_language(test_client, **headers) -> str:
    """The language the page's ``language`` store starts with (from ``/_dash-layout``)."""
    layout = json.loads(test_client.get("/_dash-layout", headers=headers).data)
    stores = [c["props"] for c in layout["props"]["children"] if c["props"].get("id") == "language"]
    return stores[0]["data"]


def test_the_first_page_is_in_the_language_asked_for(tmp_path):
    web = client(tmp_path)
    german = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
    assert html_lang(web.get("/")) == "en"
    assert html_lang(web.get("/", headers=german)) == "de"
    assert html_lang(web.get("/attempt?lang=de")) == "de"
    assert html_lang(web.get("/?lang=en", headers=german)) == "en"
    assert html_lang(web.get("/?lang=fr", headers=german)) == "de"  # not ours: ignored
    assert layout_language(web, **german) == "de" and layout_language(web) == "en"
    page = web.get("/", headers=german).get_data(as_text=True)
    assert "<title>Schlag die KI — Auto-Edition</title>" in page
    # The overlays that work without Dash are there in both languages, shown by <html lang>.
    assert "Einen Moment…" in page and "One moment…" in page and "Spielst du noch?" in page


def test_the_stand_setting_overrides_the_browser_but_not_the_visitor(tmp_path):
    web = client(tmp_path, language="de")
    assert html_lang(web.get("/", headers={"Accept-Language": "en-US"})) == "de"
    assert layout_language(web, **{"Accept-Language": "en-US"}) == "de"
    assert html_lang(web.get("/stats?lang=en")) == "en"


def test_an_unknown_stand_language_is_refused_at_start():
    with pytest.raises(ValueError):
        Settings(language="fr")
