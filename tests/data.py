"""The committed model and its photos, and a day of games for the wall, as tests read them: a
helper module, so that no test imports conftest.py (pytest loads that itself, under another
name)."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dashboard.stats import GameRecord, RoundRecord
from model_api import dataset
from model_api.contract import DEFAULT_EXPORT_DIR, METRICS_FILE, newest_version

FIRST_VERSION = DEFAULT_EXPORT_DIR / "1"  # the trained weights, as first exported
# The newest committed version: the one the model server serves (and metrics.json describes).
COMMITTED_VERSION = newest_version()


def committed_build() -> tuple[str, object]:
    """(backbone, view) the committed newest version was trained with (its metrics.json)."""
    from model.export import recorded_build  # TensorFlow only for the tests that need it

    return recorded_build(json.loads((DEFAULT_EXPORT_DIR / METRICS_FILE).read_text())
                          ["training"]["args"])


TODAYS_INITIALS = {"a" * 16: "ANN", "b" * 16: "BOB"}  # game id: initials, both 3:3


def record_todays_games(database_url: str) -> None:
    """Two finished games of today with initials (ANN and BOB, one exact round each), written
    into the statistics at ``database_url``."""
    from dashboard.stats import open_stats

    stats = open_stats(database_url)
    ended = datetime.now(UTC)
    car = "BMW M3 Coupe 2012"
    rounds = (RoundRecord("1.jpg", car, car, car, 3, 3, 4.0),)
    for game_id, initials in TODAYS_INITIALS.items():
        stats.record(GameRecord(game_id, ended - timedelta(minutes=2), ended, "expert", "en",
                                True, rounds, initials))
    stats.close()


def photo_bytes(root: Path, photos: list[dataset.Photo]) -> list[bytes]:
    """The files of ``photos`` under the dataset at ``root``, as sent over the wire."""
    return [(root / "images" / p.file).read_bytes() for p in photos]


def event_config(tmp_path: Path):  # -> dashboard.event.config.EventConfig
    """The event's settings (the game's defaults) in a fresh SQLite file under ``tmp_path``."""
    from dashboard.event.config import EventConfig
    from dashboard.settings import Settings
    from dashboard.stats import open_stats

    return EventConfig(open_stats(f"sqlite:///{tmp_path / 'event.sqlite3'}").engine, Settings())


def first_version_only(folder: Path) -> Path:
    """A model base path holding only version 1 (linked, not copied): the protocol tests'
    fixed layout (version 1 served, version 2 named but absent), whatever is committed."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "1").symlink_to(FIRST_VERSION, target_is_directory=True)
    return folder


# ---- games as the statistics keep them (the wall's and the blocklist's tests) ----

DAY0, DAY1 = date(2026, 5, 3), date(2026, 5, 4)
M3, X5, R8 = "BMW M3 Coupe 2012", "BMW X5 SUV 2007", "Audi R8 Coupe 2012"


def rnd(true: str, guess: str | None, ai: str) -> RoundRecord:
    """A round scored as the game scores it: exact 3, same make 1, else 0."""
    def score(g: str | None) -> int:
        return 0 if g is None else 3 if g == true else int(g.split()[0] == true.split()[0])
    return RoundRecord("1.jpg", true, guess, ai, score(guess), score(ai), 5.0)


def game(gid: str, day: date, rounds: tuple[RoundRecord, ...], initials_: str | None = None,
         finished: bool = True, hour: int = 12) -> GameRecord:
    ended = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return GameRecord(gid, ended - timedelta(minutes=2), ended, "expert", "en", finished,
                      rounds, initials_)
