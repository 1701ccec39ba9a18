"""The wall nobody can deface: the blocklist's data file and its reading, the initials picker
refusing what it lists (through the real app's callback, nothing stored, the picker still
usable), and the wall leaving out what was stored before a line was added, still filling its
top 10."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dash
import pytest

from dashboard import blocklist, initials
from dashboard.pages import wall
from dashboard.scoreboard import InitialsSaved, Scoreboard
from dashboard.stats import Stats, open_stats
from tests.callbacks import call, offline_app, save_values
from tests.data import M3, X5, game, rnd
from tests.tree import text

ORDINARY = ["ABC", "MAX", "ANA", "BOB", "ZOE", "ANN", "CAT", "AAA"]
ENGLISH = ["FCK", "FUK", "CUM", "ASS", "TIT", "SEX", "FAG", "NIG", "NGR"]
GERMAN = ["ARS", "FIK", "KAK", "HUR", "WIX", "FTZ", "ASI"]
EXTREMIST = ["SSS", "KKK", "NSU", "NPD", "ZOG"]
PREFIXED = ["HJA", "HJZ", "KZA", "SAM", "SAX", "AHA", "HHX", "SSA", "NSA"]


def clicks_for(letters: str) -> list[int]:
    """The ▲/▼ counts that show ``letters`` (only ▲ touches)."""
    return [n for c in letters for n in (initials.LETTERS.index(c), 0)]


# ---- the list --------------------------------------------------------------------------------

@pytest.mark.parametrize("initials_", ENGLISH + GERMAN + EXTREMIST + PREFIXED)
def test_rude_hateful_and_extremist_initials_are_refused(initials_: str):
    assert not blocklist.allows(initials_)


@pytest.mark.parametrize("initials_", ORDINARY)
def test_ordinary_initials_pass(initials_: str):
    assert blocklist.allows(initials_)


@pytest.mark.parametrize("odd", [
    "kkk", "Kkk", "sss", "abc",  # lower case: refused, never looked up upper-cased and let by
    " KKK", "KKK ", "KKK\n", "K K", "KK", "KKKK", "",
    "ＫＫＫ",  # full-width letters
    "ККК",  # Cyrillic look-alikes
    "ÄSS", None, 123, ["KKK"],
])
def test_odd_input_cannot_sneak_past(odd: object):
    assert not blocklist.allows(odd)


def test_the_file_lists_the_extremist_codes_and_the_plate_prefixes():
    entries = set(blocklist.file_entries())
    assert {"SSS", "KKK", "NSU", "NPD"} <= entries
    assert {"HJ*", "KZ*", "SA*", "AH*", "HH*", "SS*", "NS*"} <= entries
    assert len(entries) == len(blocklist.file_entries())  # no line twice


def test_extra_entries_extend_the_files_list():
    extended = blocklist.build(blocklist.file_entries(), ["xyz", "Q*"])
    assert extended.refuses("XYZ") and extended.refuses("QAB") and extended.refuses("KKK")
    assert not extended.refuses("ABC")
    assert not blocklist.current().refuses("XYZ")  # the process's list is left as it is


@pytest.mark.parametrize("bad", ["AB", "ABCD", "A**", "*", "ÄBC", "A B", "AB?"])
def test_a_typo_in_an_entry_fails_loudly(bad: str):
    with pytest.raises(ValueError):
        blocklist.build([], [bad])


def test_a_list_file_skips_comments_and_names_a_bad_line(tmp_path: Path):
    assert blocklist.entries_in(["# a comment", "", "  fck  # trailing", "hj*"]) == ["FCK", "HJ*"]
    with pytest.raises(ValueError, match="line 2"):
        blocklist.entries_in(["ABC", "ABCD"])
    path = tmp_path / "list.txt"
    path.write_text("# mine\nxyz\n", encoding="utf-8")
    assert blocklist.file_entries(path) == ("XYZ",)


# ---- the picker, through the real app ---------------------------------------------------------

@pytest.fixture
def stats(tmp_path: Path) -> Iterator[Stats]:
    """Today's statistics: ANN's, BOB's and a third game without initials (``GID``)."""
    stats = open_stats(f"sqlite:///{tmp_path / 'stats.sqlite3'}")
    today = wall.today()
    for g in (game("00000000000000a1", today, (rnd(M3, M3, X5),), "ANN"),
              game("00000000000000b2", today, (rnd(M3, X5, M3),), "BOB"),
              game(GID, today, (rnd(X5, X5, X5),))):
        assert stats.record(g)
    yield stats
    stats.close()


GID = "00000000000000c3"


@pytest.fixture
def app(stats: Stats, tmp_path: Path) -> dash.Dash:
    return offline_app(tmp_path)


def on_wall(stats: Stats) -> list[str]:
    return [e.initials for e in stats.top(wall.today())]


@pytest.mark.parametrize("refused", ["SSS", "KKK", "NSU", "FCK", "ARS", "HJA"])
def test_refused_initials_never_reach_the_wall_and_the_picker_stays(
        app: dash.Dash, stats: Stats, refused: str):
    status, body = call(app, "initials-saved.children", save_values(GID, clicks_for(refused)))
    assert status == 200
    answer = body["response"]
    shown = json.dumps(answer["initials-saved"])
    assert initials.REFUSED in shown and refused not in shown  # never the word itself
    assert answer["initials-save"]["disabled"] is False  # pick other letters, save again
    assert on_wall(stats) == ["ANN", "BOB"]  # nothing stored

    status, body = call(app, "initials-saved.children", save_values(GID, clicks_for("ABC")))
    assert "Saved! Look for ABC on the wall." in json.dumps(body["response"]["initials-saved"])
    assert on_wall(stats) == ["ANN", "ABC", "BOB"]


def test_the_refusal_speaks_german(app: dash.Dash, stats: Stats):
    values = {**save_values(GID, clicks_for("KKK")), "language.data": "de"}
    status, body = call(app, "initials-saved.children", values)
    assert status == 200
    assert "Bitte wähle andere" in json.dumps(body["response"]["initials-saved"],
                                               ensure_ascii=False)
    assert on_wall(stats) == ["ANN", "BOB"]


@pytest.mark.parametrize("odd", ["kkk", "abc", "KKKK", "ＫＫＫ"])
def test_every_write_is_checked_odd_input_included(stats: Stats, odd: str):
    """``Scoreboard.set_initials`` is where every write passes, whatever its caller sends."""
    assert Scoreboard(stats).set_initials(GID, odd) is InitialsSaved.REFUSED
    assert on_wall(stats) == ["ANN", "BOB"]


# ---- the wall, with entries stored before the list ------------------------------------------

def test_entries_stored_before_the_list_are_left_off_and_the_top_10_fills_up(
        app: dash.Dash, stats: Stats):
    today = wall.today()
    # the two best games of the day, given refused initials before the list existed
    for i, letters in enumerate(["KKK", "SAM"]):
        gid = f"{0xe0 + i:016x}"
        assert stats.record(game(gid, today, tuple(rnd(M3, M3, X5) for _ in range(5))))
        assert stats.set_initials(gid, letters)  # straight into the database
    for i in range(10):  # ten more, all ordinary (ZAZ … ZJZ), below the first two
        assert stats.record(game(f"{0xd0 + i:016x}", today, (rnd(M3, M3, X5),) * 2,
                                 f"Z{chr(65 + i)}Z"))
    assert on_wall(stats)[:2] == ["KKK", "SAM"]  # in the database, at the top

    _all, _today, top, _crowd, _fooling = wall.panels(stats, today, blocklist.allows)
    listed = text(top)
    assert "KKK" not in listed and "SAM" not in listed
    assert listed.count(".") == 10 and "1. ZAZ" in listed and "10. ZJZ" in listed

    status, body = call(app, "stats-all.children", {"stats-tick.n_intervals": 1})
    assert status == 200
    shown = json.dumps(body["response"]["stats-top"])
    assert "KKK" not in shown and "SAM" not in shown and "ZJZ" in shown
