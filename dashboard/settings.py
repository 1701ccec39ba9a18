"""Dashboard settings, from ``DASHBOARD_*`` environment variables."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DASHBOARD_")

    model_url: str = "http://localhost:8501"
    explainer_url: str = "http://localhost:5001"
    image_server_url: str = "http://localhost:8081"
    request_timeout: float = Field(10.0, gt=0, description="seconds per call to a service")
    rounds: int = Field(5, ge=1, le=20)
    ready_games: int = Field(2, ge=0, description="games prepared ahead for the next visitors")
    prepare_concurrency: int = Field(2, ge=1, le=8, description="games prepared at once")
    # Bursts: as many games are kept ready as were taken in the last demand_window seconds,
    # up to ready_games_max; the model's answers for pool photos are kept on disk by model
    # version (dashboard/answers.py), and the pool is answered while nobody waits.
    ready_games_max: int = Field(20, ge=0, description="the most games kept ready")
    demand_window: float = Field(30, gt=0, description="seconds of demand the ready games follow")
    answer_cache_dir: Path = REPO / ".cache" / "dashboard" / "answers"
    answer_cache_max_bytes: int = Field(256 * 1024 * 1024, gt=0)
    warm_answers: bool = Field(True, description="answer the whole pool in the background")
    warm_batch: int = Field(8, ge=1, le=64, description="pool photos per background call")
    warm_rescan_seconds: float = Field(30, gt=0)
    health_interval: float = Field(2.0, gt=0, description="seconds between back-end checks")
    health_timeout: float = Field(1.5, gt=0, description="seconds a back-end check may take")
    render_budget: float = Field(
        0.5, gt=0, description="the longest a page waits on the event loop before it shows "
                               "'preparing…' and asks again")
    reel_refresh_seconds: float = Field(300, gt=0, description="the attract screen's photos")
    # The kiosk cycle: a game untouched this long asks "Still playing?", counts down, and the
    # attract screen returns for the next visitor.
    idle_seconds: float = Field(60, gt=0)
    idle_countdown_seconds: float = Field(10, ge=0)
    max_request_bytes: int = Field(1024 * 1024, gt=0, description="the largest request body")
    # /upload: a photo of up to 10 MB arrives base64-encoded (4/3 as large) in one callback
    # body; only the callback that takes it may send this much (guard.py).
    max_upload_bytes: int = Field(14 * 1000 * 1000, gt=0, description="the upload's body")
    # A directory to keep visitors' uploaded photos in; unset: they are never written down.
    keep_uploads: Path | None = None
    # The game store: "" is the embedded on-disk store in store_dir (survives restarts, shared
    # by the workers of one machine); redis://host:port/db is Redis, shared by every dashboard
    # that uses it (several machines); "memory:" keeps games in the process (tests).
    store_url: str = ""
    store_prefix: str = Field(
        "beat-the-ai:", max_length=64,
        description="Redis: before every key, one per deployment sharing a Redis")
    store_timeout: float = Field(
        2.0, gt=0, description="Redis: seconds to connect, for each reply, for a connection")
    store_dir: Path = REPO / ".cache" / "dashboard" / "games"
    store_max_bytes: int = Field(512 * 1024 * 1024, gt=0, description="the store's size bound")
    game_ttl: float = Field(6 * 3600, gt=0, description="seconds a game is kept after last use")
    # Humans vs AI statistics: a SQLite file by default, PostgreSQL by URL (postgresql://…).
    database_url: str = f"sqlite:///{REPO / '.cache' / 'dashboard' / 'stats.sqlite3'}"
    # gunicorn worker processes. Each has its own event loop and games prepared ahead; they
    # share only the game store and the statistics database, so any count plays the same.
    workers: int = Field(1, ge=1, le=16, description="gunicorn worker processes")
    keepalive: int = Field(75, ge=1, le=3600, description="seconds an idle connection is kept")
    max_queue_seconds: float = Field(
        1.0, gt=0, description="a request that waited longer for a thread gets a 503 at once "
                               "(dashboard/overload.py)")
    # The fair's big screen: the game and its attract screen only, no menu (`make kiosk`).
    kiosk: bool = False
    # The language a visitor starts in ("en" or "de"); empty: the browser's preference.
    language: Literal["", "en", "de"] = ""
    log_level: str = "INFO"
