"""The event's own look and rules, set in the console: every setting checked in the owner's
words (a colour that would break WCAG AA, a logo that is too big or not a PNG/JPEG, makes that
leave too few photos), kept in a real SQLite database that every worker follows and a restart
keeps, and shown on the visitors' pages; the console's blocklist entries refused by the picker
and the wall in every worker."""
from __future__ import annotations

import base64
import io
import json
import re
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from dashboard import guard
from dashboard.event import logo as logos
from dashboard.event.config import EventConfig
from dashboard.event.contrast import BACKGROUNDS, ratio, weakest
from dashboard.event.settings import (
    MIN_PHOTOS,
    EventRefused,
    checked_accent,
    checked_idle,
    checked_makes,
    checked_modes,
    checked_name,
)
from dashboard.game import EASY, EXPERT
from dashboard.scoreboard import InitialsSaved, Scoreboard
from dashboard.settings import Settings
from dashboard.stats import open_stats
from tests.callbacks import body_for, call
from tests.console import act, console, signed_in
from tests.data import record_todays_games
from tests.tree import every

CSS = Path(__file__).resolve().parent.parent / "dashboard" / "assets" / "game.css"
SESSION = "0123456789abcdef0123456789abcdef"


def picture(fmt: str, size: tuple[int, int] = (300, 100)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (220, 30, 30)).save(out, fmt)
    return out.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width``×``height`` pixels and holds none: a decompression bomb's
    header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                               0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)))


# ---- the accent colour: WCAG AA on every background it is drawn on ---------------------------

def test_contrast_is_wcags():
    assert ratio("#ffffff", "#000000") == pytest.approx(21)
    assert ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert ratio("#38bdf8", "#0b1220") == ratio("#0b1220", "#38bdf8")


def test_the_backgrounds_checked_are_the_stylesheets():
    css = CSS.read_text()
    declared = {re.search(rf"--{name}: (#[0-9a-f]{{6}})", css).group(1)
                for name in ("bg", "surface")}
    header = re.search(r"\.site-header \{[^}]*background: (#[0-9a-f]{6})", css).group(1)
    assert set(BACKGROUNDS) == declared | {header}


@pytest.mark.parametrize("given, kept", [("#38BDF8", "#38bdf8"), ("ffd166", "#ffd166"),
                                         ("  #ffffff ", "#ffffff"), ("", ""), (None, "")])
def test_a_readable_colour_is_kept(given, kept):
    assert checked_accent(given) == kept


@pytest.mark.parametrize("dark", ["#1e3a8a", "#000000", "#dc3545", "#6c757d"])
def test_a_colour_that_breaks_contrast_is_refused_saying_how_much(dark):
    with pytest.raises(EventRefused) as refused:
        checked_accent(dark)
    assert refused.value.params["ratio"] == f"{weakest(dark):.1f}"
    assert weakest(dark) < 4.5


@pytest.mark.parametrize("odd", ["red", "#12345", "#1234567", "#ggg000", "javascript:x",
                                 "#fff;background:url(x)"])
def test_anything_but_six_hex_digits_is_refused(odd):
    with pytest.raises(EventRefused, match="six hex digits"):
        checked_accent(odd)


# ---- the logo: PNG or JPEG only, within bytes and pixels, re-encoded -------------------------

@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_png_or_jpeg_logo_is_kept_as_a_fresh_png_no_larger_than_shown(fmt):
    kept = logos.checked_logo(picture(fmt, (2400, 600)))
    with Image.open(io.BytesIO(kept)) as image:
        assert image.format == "PNG"
        assert image.size[0] <= logos.SHOWN[0] and image.size[1] <= logos.SHOWN[1]
    assert logos.digest(kept) == logos.digest(kept) and len(logos.digest(kept)) == 64


@pytest.mark.parametrize("name, data, message", [
    ("svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     logos.NOT_AN_IMAGE),
    ("gif", picture("GIF"), logos.NOT_AN_IMAGE),
    ("webp", picture("WEBP"), logos.NOT_AN_IMAGE),
    ("text", b"hello", logos.NOT_AN_IMAGE),
    ("empty", b"", logos.NOT_AN_IMAGE),
    ("too many pixels", png_header(20_000, 20_000), logos.TOO_MANY_PIXELS),
    ("cut off", picture("PNG")[:60], logos.BROKEN),
    ("too big", picture("PNG")[:8] + b"\0" * (logos.MAX_BYTES + 1), logos.TOO_BIG),
])
def test_a_bad_logo_is_refused_saying_why(name, data, message):
    with pytest.raises(logos.LogoRefused) as refused:
        logos.checked_logo(data)
    assert str(refused.value) == message, name


def test_an_upload_that_is_not_a_data_url_is_not_a_logo():
    with pytest.raises(logos.LogoRefused, match="PNG or JPEG"):
        logos.uploaded_logo("data:image/png;base64,@@@")


# ---- the other settings ----------------------------------------------------------------------

def test_names_modes_and_idle_times_are_checked():
    assert checked_name("  Auto   Show\tLeipzig ") == "Auto Show Leipzig"
    for bad in ("x" * 61, "Auto\u200eShow", "Auto\x00Show"):
        with pytest.raises(EventRefused):
            checked_name(bad)
    assert checked_modes([EASY, "nonsense"]) == (EASY,)
    assert checked_modes([EASY, EXPERT]) == (EXPERT, EASY)
    with pytest.raises(EventRefused, match="at least one mode"):
        checked_modes([])
    assert checked_idle(45) == 45.0 and checked_idle(None) is None and checked_idle("") is None
    for bad in (5, 601, True, "45", float("nan")):
        with pytest.raises(EventRefused, match="between") as refused:
            checked_idle(bad)
        assert refused.value.params == {"low": 15, "high": 600}


def test_makes_that_leave_too_few_photos_are_refused():
    pool = {"Audi": 12, "BMW": 7, "Tesla": 5}
    assert checked_makes(["Audi", "BMW", "Tesla"], pool) == ()  # every make: "all"
    assert checked_makes(["BMW", "Audi"], pool) == ("Audi", "BMW") if MIN_PHOTOS <= 19 else True
    with pytest.raises(EventRefused) as refused:
        checked_makes(["Audi", "Tesla"], pool)
    assert refused.value.params == {"n": 17, "needed": MIN_PHOTOS}
    with pytest.raises(EventRefused, match="not in the photo pool"):
        checked_makes(["Trabant"], pool)


# ---- kept in the database: every worker follows, a restart keeps it -------------------------

def test_every_worker_follows_the_settings_and_a_restart_keeps_them(tmp_path):
    url = f"sqlite:///{tmp_path}/stats.sqlite3"
    one = EventConfig(open_stats(url).engine, Settings())
    two = EventConfig(open_stats(url).engine, Settings(language="en", idle_seconds=60))
    seen = []
    two.when_changed(lambda old, new: seen.append((old.name, new.name)))
    one.save(name="Auto Show", accent="#ffd166", language="de", idle_seconds=45.0,
             modes=(EASY,), makes=("Audi", "BMW"))
    png = logos.checked_logo(picture("PNG"))
    one.save_logo(logos.digest(png), png)
    assert one.block("QQ*") and not one.block("QQ*") and not one.block("KKK")  # KKK: the file's
    assert two.current.name == "" and two.allows("QQA")  # not read yet
    two.refresh()  # what its loop does every REFRESH_S
    assert seen == [("", "Auto Show")]
    assert (two.current.accent, two.language(), two.idle_seconds()) == ("#ffd166", "de", 45.0)
    assert two.current.modes == (EASY,) and two.current.makes == ("Audi", "BMW")
    assert two.logo(two.current.logo) == png
    assert not two.allows("QQA") and not two.allows("KKK") and two.allows("ABC")
    restarted = EventConfig(open_stats(url).engine, Settings())
    assert restarted.current == two.current
    assert one.unblock("QQ*") and not one.unblock("KKK")  # the data file's entries stay
    one.save_logo("", None)
    assert two.refresh().logo == "" and two.allows("QQA") and two.logo(logos.digest(png)) is None


def test_initials_added_in_one_worker_are_refused_in_another(tmp_path):
    url = f"sqlite:///{tmp_path}/stats.sqlite3"
    record_todays_games(url)  # ANN's and BOB's games
    stats = open_stats(url)
    one, two = (EventConfig(open_stats(url).engine, Settings()) for _ in range(2))
    one.block("ZED")
    two.refresh()
    board = Scoreboard(stats, two.allows)
    assert board.set_initials("a" * 16, "ZED") is InitialsSaved.REFUSED
    assert board.set_initials("a" * 16, "ZEN") is InitialsSaved.SAVED


# ---- through the console, signed in, and on the visitors' pages ------------------------------

def test_the_console_refuses_bad_settings_and_changes_nothing(tmp_path):
    app = console(tmp_path)
    client = signed_in(app)
    values = {"operator-event-save.n_clicks": 1, "operator-event-name.value": "Auto Show",
              "operator-event-accent.value": "#1e3a8a", "operator-event-modes.value": [EASY],
              "operator-event-makes.value": ["Audi"]}
    status, said = act(app, client, "operator-event-message.children", values)
    assert status == 200 and "photo pool cannot be read" in said  # the image server is down
    for logo, message in ((data_url(b"\0" * (logos.MAX_BYTES + 10)), "larger than 2 MB"),
                          (data_url(b"<svg/>", "image/svg+xml"), "PNG or JPEG"),
                          (data_url(picture("GIF"), "image/gif"), "PNG or JPEG")):
        status, said = act(app, client, "operator-logo-message.children",
                           {"operator-logo-upload.contents": logo})
        assert status == 200 and message in said
    status, said = act(app, client, "operator-block-message.children",
                       {"operator-block-add.n_clicks": 1, "operator-block-entry.value": "Q1Q"})
    assert "three letters" in said
    stored = EventConfig(open_stats(f"sqlite:///{tmp_path}/stats.sqlite3").engine, Settings())
    assert stored.current.name == "" and stored.current.logo == "" and stored.current.blocked == ()


def test_the_console_takes_makes_from_the_real_pool(tmp_path, image_server_url):
    app = console(tmp_path, image_server_url=image_server_url)
    client = signed_in(app)
    base = {"operator-event-save.n_clicks": 1, "operator-event-modes.value": [EASY, EXPERT],
            "operator-event-accent.value": "#ffd166", "operator-event-name.value": "Auto Show"}
    status, said = act(app, client, "operator-event-message.children",
                       {**base, "operator-event-makes.value": ["Maybach", "Tesla"]})
    assert "leave 9 photos" in said
    status, said = act(app, client, "operator-event-message.children",
                       {**base, "operator-event-makes.value": ["Audi", "BMW", "Mercedes-Benz"]})
    assert "Saved." in said
    status, said = act(app, client, "operator-event-message.children",
                       {**base, "operator-event-accent.value": "#111111",
                        "operator-event-makes.value": ["Audi"]})
    assert "too dark" in said and f"{weakest('#111111'):.1f}:1" in said
    stored = EventConfig(open_stats(f"sqlite:///{tmp_path}/stats.sqlite3").engine, Settings())
    assert stored.current.makes == ("Audi", "BMW", "Mercedes-Benz")
    assert stored.current.accent == "#ffd166"  # the refused colour changed nothing


def test_the_visitors_pages_show_the_event_and_follow_its_rules(tmp_path):
    app = console(tmp_path)
    client = signed_in(app)
    png = picture("PNG")
    status, said = act(app, client, "operator-logo-message.children",
                       {"operator-logo-upload.contents": data_url(png)})
    assert "new logo" in said
    event = app.event  # the worker that saved has it at once
    event.save(name="Auto Show", accent="#ffd166", language="de", idle_seconds=45.0,
               modes=(EXPERT,))
    logo = client.get(f"/event/logo/{event.current.logo}.png")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert logo.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in logo.headers["Cache-Control"]
    assert Image.open(io.BytesIO(logo.data)).format == "PNG"
    for bad in ("0" * 64, "x", "x" * 64, event.current.logo.upper()):
        assert client.get(f"/event/logo/{bad}.png").status_code == 404
    index = app.server.test_client().get("/", headers={"Accept-Language": "en"}).get_data(True)
    assert '<html lang="de"' in index and 'data-idle-seconds="45"' in index
    status, body = call(app, "page.children", {
        "url.pathname": "/", "url.search": "", "rendered.data": None,
        "session.data": SESSION, "language.data": "en"})
    page = body["response"]["page"]
    shown = json.dumps(page)
    assert '"children": "Auto Show"' in shown and '"color": "#ffd166"' in shown
    assert f"/event/logo/{event.current.logo}.png" in shown
    modes = every(page, lambda c: c.get("props", {}).get("id") in ("play", "play-easy"))
    buttons = {c["props"]["id"]: c["props"]["hidden"] for c in modes}
    assert buttons == {"play": False, "play-easy": True}
    # a "play-easy" click anyway (a page from before, or a crafted request): an expert game
    key = next(k for k, cb in app.callback_map.items() if cb["inputs"][0]["id"] == "play-easy")
    answer = app.server.test_client().post(guard.CALLBACK_PATH, json=body_for(
        {**app.callback_map[key], "output": key},
        {"play-easy.n_clicks": 1, "session.data": SESSION, "language.data": "en"}))
    assert answer.status_code == 200
    assert '"id":"prepare-mode","data":"expert"' in answer.get_data(True)
