"""The console's CSV exports (``GET /operator/export/<what>.csv``), through the real app and
Flask's test client after a real sign-in: refused signed out, with the console off, from
another site and in the kiosk; signed in, each file opens as a spreadsheet would read it (BOM,
header, ``\\r\\n``, quoting), holds exactly the range's records (days inclusive, UTC), keeps a
formula out of every cell, and is written to the audit trail."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import dash
import flask
import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from dashboard.operator import export as operator_export
from dashboard.operator import web
from dashboard.stats import GameRecord, RoundRecord, Stats, open_stats
from dashboard.stats import export as stats_export
from dashboard.stats.schema import AuditEntry
from tests.callbacks import call, offline_app

PASSWORD = "correct horse battery"
SAME = {"Origin": "http://localhost"}  # the test client's own origin
M3, X5 = "BMW M3 Coupe 2012", "BMW X5 SUV 2007"
EVIL = '=HYPERLINK("http://evil.example","click")'
DAY0, DAY1, DAY2, DAY3 = (date(2025, 3, 1) + timedelta(days=i) for i in range(4))
KINDS = ("games", "rounds", "upload-verdicts")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def game(gid: str, ended: datetime, rounds: tuple[RoundRecord, ...],
         initials: str | None = None, finished: bool = True) -> GameRecord:
    return GameRecord(gid, ended - timedelta(minutes=2), ended, "expert", "de", finished,
                      rounds, initials)


# One game on each day's edges and one abandoned: DAY1 starts at 00:00:00 and ends at 23:59.
GAMES = (
    game("00000000000000a0", at(DAY0, 23, 59), (RoundRecord("0.jpg", M3, M3, M3, 3, 3, 4.5),),
         "ANN"),
    game("00000000000000a1", at(DAY1, 0), (RoundRecord("1.jpg", M3, EVIL, X5, 0, 1, 2.0),
                                           RoundRecord("2.jpg", X5, None, X5, 0, 3)), "BOB"),
    game("00000000000000a2", at(DAY1, 23, 59), (RoundRecord("3.jpg", X5, "+1", M3, 0, 1),),
         finished=False),
    game("00000000000000a3", at(DAY2, 12), (RoundRecord("4.jpg", M3, "-1+2", M3, 0, 3),),
         "CAT"),
    game("00000000000000a4", at(DAY3, 0), (RoundRecord("5.jpg", M3, M3, X5, 3, 1),), "DAN"),
)
VERDICTS = (("0000000000000v00", M3, True, at(DAY0, 10)),
            ("0000000000000v01", "@SUM(A1:A9)", False, at(DAY1, 8)),
            ("0000000000000v02", X5, True, at(DAY2, 23, 59)),
            ("0000000000000v03", "\tTAB", False, at(DAY3, 1)))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[dash.Dash]:
    stats = open_stats(f"sqlite:///{tmp_path}/stats.sqlite3")
    for g in GAMES:
        assert stats.record(g)
    for upload_id, guess, right, when in VERDICTS:
        assert stats.record_upload_verdict(upload_id, guess, right, at=when)
    stats.close()
    yield offline_app(tmp_path, operator_password=PASSWORD)


def signed_in(app: dash.Dash) -> FlaskClient:
    """A test client with a live console session, signed in through the login callback."""
    client = app.server.test_client()
    status, _ = call(app, "operator-message.children",
                     {"operator-login.n_clicks": 1, "operator-password.value": PASSWORD},
                     client=client, headers=SAME)
    assert status == 200 and client.get_cookie(web.COOKIE) is not None
    return client


def url(what: str, first: str | None = None, last: str | None = None) -> str:
    query = "&".join(f"{k}={v}" for k, v in (("from", first), ("to", last)) if v is not None)
    return f"/operator/export/{what}.csv" + (f"?{query}" if query else "")


def table(body: bytes) -> list[list[str]]:
    """The file as a spreadsheet would read it: UTF-8 behind a BOM, CSV with ``\\r\\n``."""
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline="")))


def audit(tmp_path: Path) -> list[tuple[str, str]]:
    engine = create_engine(f"sqlite:///{tmp_path}/stats.sqlite3")
    with Session(engine) as session:
        return [(e.action, e.detail)
                for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_signed_out_gets_401_and_no_data(app: dash.Dash, tmp_path: Path):
    client = app.server.test_client()
    for what in KINDS:
        response = client.get(url(what, "2025-03-01", "2025-03-04"))
        assert response.status_code == 401 and response.is_json
        assert b"0000000000000" not in response.data
    client.set_cookie(web.COOKIE, "forged")
    assert client.get(url("games")).status_code == 401
    assert audit(tmp_path) == []


def test_the_console_off_gets_403(tmp_path: Path):
    response = offline_app(tmp_path).server.test_client().get(url("games"))
    assert response.status_code == 403 and response.is_json


def test_the_kiosk_serves_no_export(tmp_path: Path):
    app = offline_app(tmp_path, operator_password=PASSWORD, kiosk=True)
    assert all(not r.rule.startswith("/operator/export") for r in app.server.url_map.iter_rules())


def test_another_site_is_refused_even_signed_in(app: dash.Dash, tmp_path: Path):
    client = signed_in(app)
    for site in ("cross-site", "same-site", "nonsense"):
        response = client.get(url("games"), headers={"Sec-Fetch-Site": site})
        assert response.status_code == 403 and response.is_json, site
    for site in ("same-origin", "none"):  # a click on the console's link, the address bar
        assert client.get(url("games"), headers={"Sec-Fetch-Site": site}).status_code == 200
    assert client.get(url("games")).status_code == 200  # no header: an older browser
    assert [action for action, _ in audit(tmp_path)] == ["login"] + ["export"] * 3


def test_games_of_a_range_days_inclusive(app: dash.Dash, tmp_path: Path):
    response = signed_in(app).get(url("games", "2025-03-02", "2025-03-03"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="beat-the-ai-games-2025-03-02-2025-03-03.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    header, *rows = table(response.data)
    assert header == ["id", "started_at", "ended_at", "mode", "language", "status",
                      "initials", "human_points", "ai_points"]
    assert rows == [
        ["00000000000000a1", "2025-03-01T23:58:00+00:00", "2025-03-02T00:00:00+00:00",
         "expert", "de", "finished", "BOB", "0", "4"],
        ["00000000000000a2", "2025-03-02T23:57:00+00:00", "2025-03-02T23:59:00+00:00",
         "expert", "de", "abandoned", "", "0", "1"],
        ["00000000000000a3", "2025-03-03T11:58:00+00:00", "2025-03-03T12:00:00+00:00",
         "expert", "de", "finished", "CAT", "0", "3"],
    ]
    assert ("export", "games 2025-03-02..2025-03-03") in audit(tmp_path)


def test_rounds_of_a_range_with_formulas_neutralised(app: dash.Dash):
    response = signed_in(app).get(url("rounds", "2025-03-02", "2025-03-02"))
    assert response.status_code == 200
    header, *rows = table(response.data)
    assert header == ["game_id", "number", "photo", "true_class", "guess", "ai_guess",
                      "human_points", "ai_points", "seconds", "game_ended_at"]
    assert rows == [
        ["00000000000000a1", "0", "1.jpg", M3, "'" + EVIL, X5, "0", "1", "2.0",
         "2025-03-02T00:00:00+00:00"],
        ["00000000000000a1", "1", "2.jpg", X5, "", X5, "0", "3", "",
         "2025-03-02T00:00:00+00:00"],
        ["00000000000000a2", "0", "3.jpg", X5, "'+1", M3, "0", "1", "",
         "2025-03-02T23:59:00+00:00"],
    ]


def test_upload_verdicts_all_time_and_one_sided(app: dash.Dash, tmp_path: Path):
    client = signed_in(app)
    response = client.get(url("upload-verdicts"))
    assert response.status_code == 200
    assert 'filename="beat-the-ai-upload-verdicts-start-end.csv"' in \
        response.headers["Content-Disposition"]
    header, *rows = table(response.data)
    assert header == ["id", "at", "ai_guess", "right"]
    assert rows == [
        ["0000000000000v00", "2025-03-01T10:00:00+00:00", M3, "true"],
        ["0000000000000v01", "2025-03-02T08:00:00+00:00", "'@SUM(A1:A9)", "false"],
        ["0000000000000v02", "2025-03-03T23:59:00+00:00", X5, "true"],
        ["0000000000000v03", "2025-03-04T01:00:00+00:00", "'\tTAB", "false"],
    ]
    _, *rows = table(client.get(url("upload-verdicts", first="2025-03-03")).data)
    assert [r[0] for r in rows] == ["0000000000000v02", "0000000000000v03"]
    _, *rows = table(client.get(url("upload-verdicts", last="2025-03-01")).data)
    assert [r[0] for r in rows] == ["0000000000000v00"]
    _, *rows = table(client.get(url("games", "2025-02-01", "2025-02-28")).data)
    assert rows == []  # a range without games: the header alone
    assert [d for a, d in audit(tmp_path) if a == "export"] == [
        "upload-verdicts start..end", "upload-verdicts 2025-03-03..end",
        "upload-verdicts start..2025-03-01", "games 2025-02-01..2025-02-28"]


@pytest.mark.parametrize("query", [
    "from=2025-3-1", "to=yesterday", "from=2025-02-30", "from=2025-03-01T00:00",
    "from=2025-03-04&to=2025-03-01", "from=2024-01-01&to=2025-01-01",
])
def test_a_bad_range_is_a_json_400(app: dash.Dash, query: str):
    response = signed_in(app).get(f"/operator/export/games.csv?{query}")
    assert response.status_code == 400 and "error" in json.loads(response.data)


def test_a_year_is_the_longest_range(app: dash.Dash):
    client = signed_in(app)
    assert client.get(url("games", "2024-01-01", "2024-12-31")).status_code == 200  # 366 days


def test_an_unknown_kind_is_a_json_404(app: dash.Dash, tmp_path: Path):
    response = signed_in(app).get("/operator/export/sessions.csv")
    assert response.status_code == 404 and "error" in json.loads(response.data)
    assert [action for action, _ in audit(tmp_path)] == ["login"]


def test_every_cell_a_spreadsheet_would_run_is_quoted_out():
    for text in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx"):
        assert operator_export.cell(text) == "'" + text
    for value in ("ANN", M3, "", "1-2", 0, 3, 4.5):
        assert operator_export.cell(value) == value
    assert operator_export.cell(None) == "" and operator_export.cell(True) == "true"
    when = datetime(2025, 3, 2, 1, 0, tzinfo=UTC).astimezone(timezone(timedelta(hours=2)))
    assert operator_export.cell(when) == "2025-03-02T01:00:00+00:00"


def test_rows_come_in_pages_in_a_stable_order(tmp_path: Path):
    """More rows than a page, several sharing one instant: each exactly once, by the key."""
    stats: Stats = open_stats(f"sqlite:///{tmp_path}/stats.sqlite3")
    same = at(DAY1, 12)
    for i in range(7):
        assert stats.record(game(f"{9 - i:016x}", same if i < 5 else at(DAY0, i),
                                 (RoundRecord("p.jpg", M3, M3, M3, 3, 3),
                                  RoundRecord("q.jpg", X5, X5, X5, 3, 3))))
    games = list(stats_export.rows(stats.engine, "games", None, None, page=2))
    assert [g[0][-1] for g in games] == ["4", "3", "5", "6", "7", "8", "9"]
    rounds = list(stats_export.rows(stats.engine, "rounds", DAY1, DAY1, page=3))
    assert [(r[0][-1], r[1]) for r in rounds] == [
        (g, n) for g in "56789" for n in (0, 1)]
    stats.close()


def test_a_failing_database_is_a_json_503(tmp_path: Path):
    """The first page is read before the answer starts: a database without its tables is a
    503 with Retry-After, not a 200 with a cut-off file."""
    class Signed:
        enabled = True
        console_port = 0  # the console on any port

        def signed_in(self, cookie: str | None) -> bool:
            return True

        def audit(self, address: str, action: str, detail: str = "") -> None:
            pass

    server = flask.Flask(__name__)
    broken = Stats(create_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}"))
    server.register_blueprint(operator_export.blueprint(Signed(), broken))  # type: ignore[arg-type]
    response = server.test_client().get(url("rounds"))
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "error" in json.loads(response.data)
    broken.close()
