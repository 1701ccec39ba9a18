"""The Humans-vs-AI statistics on both databases they run on, a real SQLite file and a real
PostgreSQL server (tests/postgres.py): Alembic migrations (empty and existing databases), the
recorded numbers checked by hand, idempotent records, writers in threads and in two real
processes, and the JSON API through Flask's test client."""
from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from dashboard.stats import CarMisses, GameRecord, RoundRecord, TopEntry, api, open_stats
from dashboard.stats.database import alembic_config, make_engine
from dashboard.stats.schema import Base

SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter, as a gunicorn worker is
DAY1 = date(2026, 5, 4)
DAY2 = date(2026, 5, 5)
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
M3, X5, R8 = "BMW M3 Coupe 2012", "BMW X5 SUV 2007", "Audi R8 Coupe 2012"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def rnd(photo: str, true: str, guess: str | None, ai: str) -> RoundRecord:
    """A round scored as the game scores it: exact 3, same make 1, else 0."""
    def score(g: str | None) -> int:
        if g is None:
            return 0
        return 3 if g == true else int(g.split()[0] == true.split()[0])
    return RoundRecord(photo, true, guess, ai, score(guess), score(ai),
                       None if guess is None else 4.5)


def game(gid: str, ended: datetime, rounds: tuple[RoundRecord, ...], finished: bool = True,
         initials: str | None = None, mode: str = "expert") -> GameRecord:
    return GameRecord(gid, ended - timedelta(minutes=3), ended, mode, "en", finished, rounds,
                      initials)


# Hand-checkable data: three finished games on DAY1, one on DAY2, one abandoned on DAY1.
GAMES = (
    # human 3+1 = 4, AI 0+3 = 3: a human win
    game("a", at(DAY1, 10), (rnd("1.jpg", M3, M3, R8), rnd("2.jpg", X5, M3, X5)), initials="ANN"),
    # human 0+0 = 0, AI 3+3 = 6: an AI win
    game("b", at(DAY1, 11), (rnd("1.jpg", M3, R8, M3), rnd("3.jpg", R8, None, R8))),
    # human 3+0 = 3, AI 3+0 = 3: a draw
    game("c", at(DAY1, 23, 59), (rnd("1.jpg", M3, M3, M3), rnd("2.jpg", X5, R8, R8)),
         initials="BOB", mode="easy"),
    # DAY2: human 3+3 = 6, AI 1+3 = 4: a human win
    game("d", at(DAY2, 0, 1), (rnd("2.jpg", X5, X5, M3), rnd("3.jpg", R8, R8, R8)),
         initials="CAT"),
    # abandoned after one round: counts for photos and cars, not in the match
    game("e", at(DAY1, 12), (rnd("1.jpg", M3, X5, M3),), finished=False),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file in a folder that does not exist yet, or a new database
    on the session's PostgreSQL server, named by a plain ``postgresql://`` URL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'new' / 'dir' / 'stats.sqlite3'}"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def stats(db_url: str):
    stats = open_stats(db_url)
    yield stats
    stats.close()


@pytest.fixture
def filled(stats):
    for g in GAMES:
        assert stats.record(g)
    return stats


# ---- URLs ----------------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg2", "postgresql+psycopg"])
def test_every_postgresql_url_is_served_by_psycopg_3(scheme):
    """SQLAlchemy 2.0 reads a plain postgresql:// as psycopg2, which is not installed."""
    engine = make_engine(f"{scheme}://beat:secret@127.0.0.1:9/beat")
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    engine.dispose()


@pytest.mark.parametrize("bad", ["sqlite://", "sqlite:///:memory:", "mysql://u@h/db"])
def test_urls_the_statistics_cannot_keep_are_refused(bad):
    with pytest.raises(ValueError):
        make_engine(bad)


# ---- migrations ----------------------------------------------------------------------------

def schema_diff(db_url: str) -> tuple[list, str]:
    """What the database's schema lacks or has more than the models, and its revision."""
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    return diff, version


def migrate(db_url: str, how: str, revision: str) -> None:
    """Run Alembic's ``upgrade``/``downgrade`` by hand, as an older or newer release would."""
    engine = make_engine(db_url)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, how)(config, revision)
    engine.dispose()


def tables(db_url: str) -> set[str]:
    engine = make_engine(db_url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_an_empty_database_is_created_at_head_matching_the_models(db_url):
    open_stats(db_url).close()
    assert schema_diff(db_url) == ([], HEAD)  # the revisions build exactly what the models say
    assert tables(db_url) == {"games", "rounds", "upload_verdicts", "operator_sessions",
                              "operator_failures", "operator_audit", "event_settings",
                              "event_logos", "blocked_initials", "shows", "show_rounds",
                              "show_answers", "alembic_version"}


def test_an_existing_database_is_upgraded_and_keeps_its_data(db_url):
    migrate(db_url, "upgrade", "0001")  # an older deployment, at 0001, with data
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO games VALUES ('old', '2026-05-04 09:00:00', '2026-05-04 09:05:00',"
            " 'expert', 'de', 'finished', 'OLD', 2, 1)"))
        conn.execute(text(
            "INSERT INTO rounds VALUES ('old', 0, '9.jpg', :m3, :x5, :m3, 1, 3, 7.0)"),
            {"m3": M3, "x5": X5})
    engine.dispose()
    stats = open_stats(db_url)
    try:
        assert schema_diff(db_url) == ([], HEAD)
        assert stats.totals(DAY1) == {"games": 1, "human_wins": 1, "ai_wins": 0, "draws": 0,
                                      "human_points": 2, "ai_points": 1}
        assert stats.top(DAY1) == [TopEntry("OLD", 2, 1)]
        assert stats.photo_share_right("9.jpg") == 0.0
    finally:
        stats.close()


def test_the_schema_downgrades_and_upgrades_again(db_url):
    open_stats(db_url).close()
    migrate(db_url, "downgrade", "base")
    assert tables(db_url) == {"alembic_version"}
    open_stats(db_url).close()
    assert schema_diff(db_url) == ([], HEAD)


def test_data_survives_a_restart(db_url):
    first = open_stats(db_url)
    first.record(GAMES[0])
    first.close()
    second = open_stats(db_url)
    assert second.totals()["games"] == 1
    assert second.top(None) == [TopEntry("ANN", 4, 3)]
    second.close()


# ---- the numbers ---------------------------------------------------------------------------

def test_totals_all_time_and_per_utc_day(filled):
    assert filled.totals() == {"games": 4, "human_wins": 2, "ai_wins": 1, "draws": 1,
                               "human_points": 13, "ai_points": 16}
    assert filled.totals(DAY1) == {"games": 3, "human_wins": 1, "ai_wins": 1, "draws": 1,
                                   "human_points": 7, "ai_points": 12}
    assert filled.totals(DAY2) == {"games": 1, "human_wins": 1, "ai_wins": 0, "draws": 0,
                                   "human_points": 6, "ai_points": 4}
    assert filled.totals(date(2026, 5, 6)) == dict.fromkeys(filled.totals(), 0)
    assert all(type(v) is int for v in filled.totals().values())
    assert (filled.rounds(), filled.rounds(DAY1)) == (8, 6)


def test_photo_share_right_counts_visitors_answers(filled):
    # 1.jpg answered M3 (a), R8 (b), M3 (c), X5 (e): 2 of 4 exact
    assert filled.photo_share_right("1.jpg") == 0.5
    # 3.jpg: b did not answer (not counted), d exact
    assert filled.photo_share_right("3.jpg") == 1.0
    assert filled.photo_share_right("2.jpg") == pytest.approx(1 / 3)
    assert filled.photo_share_right("never-shown.jpg") is None


def test_beaten_share_of_the_days_finished_games(filled):
    # DAY1 finished human points: 4, 0, 3
    assert filled.beaten_share(4, DAY1) == pytest.approx(2 / 3)
    assert filled.beaten_share(5, DAY1) == 1.0
    assert filled.beaten_share(0, DAY1) == 0.0
    assert filled.beaten_share(3, DAY2) == 0.0
    assert filled.beaten_share(9, date(2026, 5, 6)) == 0.0  # nobody played that day


def test_top_lists_finished_games_with_initials_best_first(filled):
    assert filled.top(None) == [TopEntry("CAT", 6, 4), TopEntry("ANN", 4, 3),
                                TopEntry("BOB", 3, 3)]
    assert filled.top(DAY1) == [TopEntry("ANN", 4, 3), TopEntry("BOB", 3, 3)]
    assert filled.top(None, n=1) == [TopEntry("CAT", 6, 4)]
    assert filled.set_initials("b", "ZED")
    assert filled.top(DAY1)[-1] == TopEntry("ZED", 0, 6)
    assert not filled.set_initials("e", "ABE")  # abandoned games have no place on the board
    assert not filled.set_initials("nope", "ABE")
    for bad in ("ab", "ABCD", "A1C", "ÄBC", "abc", ""):
        with pytest.raises(ValueError):
            filled.set_initials("a", bad)


def test_fooling_names_the_cars_missed_most(filled):
    fooling = filled.fooling(5)
    # visitors' answered rounds: M3 2 wrong of 4, X5 2 of 3, R8 0 of 1
    assert fooling.visitors == [CarMisses(X5, 2, 3), CarMisses(M3, 2, 4)]
    # AI: M3 1 wrong (R8 in a) of 4, X5 2 of 3 (M3 in d, R8 in c), R8 0 of 2
    assert fooling.ai == [CarMisses(X5, 2, 3), CarMisses(M3, 1, 4)]
    assert filled.fooling(1).ai == [CarMisses(X5, 2, 3)]


# ---- idempotency and validation -----------------------------------------------------------

def test_recording_is_idempotent_and_finished_replaces_abandoned(stats):
    ended = at(DAY1, 15)
    partial = game("g", ended, (rnd("1.jpg", M3, R8, M3),), finished=False)
    full = game("g", ended, (rnd("1.jpg", M3, R8, M3), rnd("2.jpg", X5, X5, X5)))
    assert stats.record(partial)
    assert not stats.record(partial)
    assert stats.totals()["games"] == 0  # abandoned: not in the match
    assert stats.record(full)
    assert stats.set_initials("g", "EVE")
    assert not stats.record(full)  # the same finished game from another worker
    assert not stats.record(partial)  # a late abandon never replaces a finished game
    assert stats.totals() == {"games": 1, "human_wins": 0, "ai_wins": 1, "draws": 0,
                              "human_points": 3, "ai_points": 6}
    assert stats.top(None) == [TopEntry("EVE", 3, 6)]  # initials kept
    assert stats.rounds() == 2  # the abandoned round was replaced, not added
    assert stats.photo_share_right("1.jpg") == 0.0


@pytest.mark.parametrize("change", [
    {"mode": "hard"}, {"language": "english"}, {"initials": "ab"}, {"id": ""},
    {"id": "x" * 65}, {"ended_at": at(DAY1, 8)}, {"started_at": datetime(2026, 5, 4, 9)},
])
def test_bad_records_are_refused_before_the_database(change):
    fields = {"id": "g", "started_at": at(DAY1, 9), "ended_at": at(DAY1, 10), "mode": "easy",
              "language": "de", "finished": True, "rounds": ()} | change
    with pytest.raises(ValueError):
        GameRecord(**fields)


@pytest.mark.parametrize("change", [{"human_points": 4}, {"ai_points": -1}, {"photo": ""},
                                    {"seconds": -1.0}, {"guess": ""}])
def test_bad_rounds_are_refused(change):
    with pytest.raises(ValueError):
        RoundRecord(**({"photo": "1.jpg", "true_class": M3, "guess": M3, "ai_guess": M3,
                        "human_points": 3, "ai_points": 3} | change))


@pytest.mark.parametrize("values", [
    "('x', '2026-05-04 09:00:00', '2026-05-04 09:05:00', 'hard', 'de', 'finished', NULL, 0, 0)",
    "('x', '2026-05-04 09:00:00', '2026-05-04 09:05:00', 'easy', 'de', 'won', NULL, 0, 0)",
    "('x', '2026-05-04 09:00:00', '2026-05-04 09:05:00', 'easy', 'de', 'finished', 'ab1', 0, 0)",
    "('x', '2026-05-04 09:00:00', '2026-05-04 09:05:00', 'easy', 'de', 'finished', 'abc', 0, 0)",
    "('x', '2026-05-04 09:00:00', '2026-05-04 09:05:00', 'easy', 'de', 'finished', 'ÄBC', 0, 0)",
    "('x', '2026-05-04 09:00:00', '2026-05-04 09:05:00', 'easy', 'de', 'finished', 'A-C', 0, 0)",
    "('x', '2026-05-04 09:00:00', '2026-05-04 09:05:00', 'easy', 'deu', 'finished', NULL, 0, 0)",
    "('x', '2026-05-04 09:00:00', '2026-05-04 09:05:00', 'easy', 'de', 'finished', NULL, -1, 0)",
    "('x', '2026-05-04 09:09:00', '2026-05-04 09:05:00', 'easy', 'de', 'finished', NULL, 0, 0)",
])
def test_the_database_itself_refuses_bad_rows(stats, values):
    with stats.engine.begin() as conn, pytest.raises(IntegrityError):
        conn.execute(text("INSERT INTO games (id, started_at, ended_at, mode, language, status,"
                          f" initials, human_points, ai_points) VALUES {values}"))


def test_the_database_refuses_rounds_without_a_game_or_with_bad_points(filled):
    for values in ("('nope', 0, '1.jpg', 'a', 'a', 'a', 3, 3, 1.0)",  # no such game
                   "('a', 7, '1.jpg', 'a', 'a', 'a', 4, 3, 1.0)",  # 4 points
                   "('a', 8, '1.jpg', 'a', 'a', 'a', 3, 3, -2.0)"):  # negative seconds
        with filled.engine.begin() as conn, pytest.raises(IntegrityError):
            conn.execute(text(f"INSERT INTO rounds VALUES {values}"))


# ---- concurrency ---------------------------------------------------------------------------

def numbered(prefix: str, count: int) -> list[GameRecord]:
    return [game(f"{prefix}{i}", at(DAY1, 10, i % 60), (rnd("1.jpg", M3, M3, X5),))
            for i in range(count)]


def test_writers_in_many_threads_all_land(stats):
    errors: list[BaseException] = []

    def write(prefix: str) -> None:
        try:
            for g in numbered(prefix, 10) + numbered("shared", 5):
                stats.record(g)
        except BaseException as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"t{n}-",)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert stats.totals()["games"] == 8 * 10 + 5
    assert stats.rounds() == 85


def write_from_process(db_url: str, prefix: str, start: multiprocessing.synchronize.Event,
                       ) -> None:
    """A worker: opens (and maybe migrates) the database at the same moment as the other."""
    start.wait(10)
    stats = open_stats(db_url)
    for g in numbered(prefix, 30) + numbered("shared", 10):
        stats.record(g)
    stats.close()


def test_two_processes_migrate_and_write_at_once(db_url):
    # the database is empty (the SQLite file does not exist): both race to create the schema
    start = SPAWN.Event()
    workers = [SPAWN.Process(target=write_from_process, args=(db_url, p, start))
               for p in ("p1-", "p2-")]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(30)
    assert [w.exitcode for w in workers] == [0, 0]
    stats = open_stats(db_url)
    assert stats.totals()["games"] == 2 * 30 + 10
    assert stats.totals()["human_points"] == 70 * 3
    stats.close()


# ---- the API -------------------------------------------------------------------------------

@pytest.fixture
def client(filled):
    app = Flask(__name__)
    app.register_blueprint(api(filled))
    return app.test_client()


def test_api_answers_totals_as_json(client, filled):
    response = client.get("/api/stats")
    assert response.status_code == 200
    no_shows = {"shows": 0, "crowd_wins": 0, "ai_wins": 0, "draws": 0, "phones": 0}
    assert response.get_json() == {**filled.totals(), "upload_verdicts": {"right": 0, "wrong": 0},
                                   "crowd_vs_ai": no_shows}
    assert response.headers["Cache-Control"] == "no-store"
    assert filled.record_upload_verdict("a" * 16, "BMW M3 Coupe 2012", False,
                                        at=datetime(2026, 5, 5, 23, 59, tzinfo=UTC))
    assert filled.record_upload_verdict("b" * 16, "BMW M3 Coupe 2012", True,
                                        at=datetime(2026, 5, 6, 0, 1, tzinfo=UTC))
    assert client.get("/api/stats").get_json()["upload_verdicts"] == {"right": 1, "wrong": 1}
    response = client.get("/api/stats?day=2026-05-05")
    assert response.get_json() == {"games": 1, "human_wins": 1, "ai_wins": 0, "draws": 0,
                                   "human_points": 6, "ai_points": 4,
                                   "upload_verdicts": {"right": 0, "wrong": 1},
                                   "crowd_vs_ai": no_shows}


@pytest.mark.parametrize("day", ["yesterday", "2026-02-30", "20260504", "2026-5-4", "",
                                 "2026-05-04T00:00", "２０２６-05-04"])
def test_api_refuses_a_bad_day_with_a_json_400(client, day):
    response = client.get("/api/stats", query_string={"day": day})
    assert response.status_code == 400
    assert response.get_json() == {"error": "day must be a date as YYYY-MM-DD"}


def test_api_answers_503_json_when_the_database_is_broken(client, filled):
    with filled.engine.begin() as conn:
        conn.execute(text("DROP TABLE rounds"))
        conn.execute(text("DROP TABLE games"))
    response = client.get("/api/stats")
    assert response.status_code == 503
    assert response.get_json() == {"error": "statistics unavailable"}
