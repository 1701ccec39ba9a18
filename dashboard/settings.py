"""Dashboard settings, from ``DASHBOARD_*`` environment variables."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DASHBOARD_")

    model_url: str = Field(
        "http://localhost:8501", description="the model server (TF Serving's REST API)")
    explainer_url: str = Field("http://localhost:5001", description="the explainer")
    image_server_url: str = Field("http://localhost:8081", description="the image server")
    request_timeout: float = Field(10.0, gt=0, description="seconds per call to a service")
    rounds: int = Field(5, ge=1, le=20, description="photos (rounds) in a game")
    ready_games: int = Field(2, ge=0, description="games prepared ahead for the next visitors")
    prepare_concurrency: int = Field(2, ge=1, le=8, description="games prepared at once")
    # Bursts: as many games are kept ready as were taken in the last demand_window seconds,
    # up to ready_games_max; the model's answers for pool photos are kept on disk by model
    # version (dashboard/output_cache.py), and the pool is answered while nobody waits.
    ready_games_max: int = Field(20, ge=0, description="the most games kept ready")
    demand_window: float = Field(30, gt=0, description="seconds of demand the ready games follow")
    answer_cache_dir: Path = Field(
        REPO / ".cache" / "dashboard" / "answers",
        description="the model's answers for pool photos, kept on disk by model version")
    answer_cache_max_bytes: int = Field(
        256 * 1024 * 1024, gt=0, description="the kept answers' size bound on disk")
    warm_answers: bool = Field(True, description="answer the whole pool in the background")
    warm_batch: int = Field(8, ge=1, le=64, description="pool photos per background call")
    warm_rescan_seconds: float = Field(
        30, gt=0, description="seconds before pool photos still unanswered (another "
                              "worker's, or failed) are looked at again")
    health_interval: float = Field(2.0, gt=0, description="seconds between back-end checks")
    health_timeout: float = Field(1.5, gt=0, description="seconds a back-end check may take")
    render_budget: float = Field(
        0.5, gt=0, description="the longest a page waits on the event loop before it shows "
                               "'preparing…' and asks again")
    reel_refresh_seconds: float = Field(300, gt=0, description="the attract screen's photos")
    idle_seconds: float = Field(
        60, gt=0, description="seconds a game may go untouched before 'Still playing?' asks")
    idle_countdown_seconds: float = Field(
        10, ge=0, description="seconds 'Still playing?' counts down before the attract "
                              "screen returns for the next visitor")
    max_request_bytes: int = Field(1024 * 1024, gt=0, description="the largest request body")
    # /upload: a photo of up to 10 MB arrives base64-encoded (4/3 as large) in one callback
    # body; only the callback that takes it may send this much (guard.py).
    max_upload_bytes: int = Field(14 * 1000 * 1000, gt=0, description="the upload's body")
    keep_uploads: Path | None = Field(
        None, description="a directory to keep visitors' uploaded photos in; unset: they are "
                          "never written down")
    store_url: str = Field(
        "", description="the game store: empty is the embedded on-disk store in store_dir "
                        "(survives restarts, shared by the workers of one machine); "
                        "redis://host:port/db is Redis, shared by every dashboard that uses it "
                        "(several machines); 'memory:' keeps games in the process (tests)")
    store_prefix: str = Field(
        "beat-the-ai:", max_length=64,
        description="Redis: before every key, one per deployment sharing a Redis")
    store_timeout: float = Field(
        2.0, gt=0, description="Redis: seconds to connect, for each reply, for a connection")
    store_dir: Path = Field(REPO / ".cache" / "dashboard" / "games",
                            description="the embedded on-disk game store's folder")
    store_max_bytes: int = Field(512 * 1024 * 1024, gt=0, description="the store's size bound")
    game_ttl: float = Field(6 * 3600, gt=0, description="seconds a game is kept after last use")
    database_url: str = Field(
        f"sqlite:///{REPO / '.cache' / 'dashboard' / 'stats.sqlite3'}",
        description="Humans vs AI statistics: a SQLite file by default, PostgreSQL by URL "
                    "(postgresql://…)")
    # gunicorn worker processes. Each has its own event loop and games prepared ahead; they
    # share only the game store and the statistics database, so any count plays the same.
    workers: int = Field(1, ge=1, le=16, description="gunicorn worker processes")
    keepalive: int = Field(75, ge=1, le=3600, description="seconds an idle connection is kept")
    # gunicorn's workers write their Prometheus values here (prometheus-client's multiprocess
    # mode): a folder per start, named by the master's pid, emptied as it starts.
    metrics_dir: Path = Field(
        REPO / ".cache" / "dashboard" / "metrics",
        description="where gunicorn's workers keep their /metrics values: a folder per start "
                    "inside it, emptied when the master starts")
    max_queue_seconds: float = Field(
        1.0, gt=0, description="a request that waited longer for a thread gets a 503 at once "
                               "(dashboard/overload.py)")
    kiosk: bool = Field(
        False, description="the fair's big screen: the game and its attract screen only, no "
                           "menu (`make kiosk`)")
    language: Literal["", "en", "de"] = Field(
        "", description="the language a visitor starts in; empty: the browser's preference")
    # The operator console (/operator): off until a password or its hash is set.
    operator_password: SecretStr | None = Field(
        None, description="the operator console's password; unset (and no hash): the console "
                          "is off")
    operator_password_hash: str = Field(
        "", description="instead of the password, its hash: `python -m dashboard.operator.hash`")
    operator_max_failures: int = Field(
        5, ge=1, le=100, description="wrong passwords in a row from one address before it is "
                                     "locked out")
    operator_lockout_seconds: float = Field(
        900, gt=0, description="how long a locked-out address is refused, the right password "
                               "included")
    console_port: int = Field(
        0, ge=0, le=65535,
        description="serve the console only on requests that arrived on this port of the "
                    "dashboard (gunicorn listens on it too: PLAY_CONSOLE_PORT); 0: on any. The "
                    "kiosk profile serves the console only so")
    operator_idle_seconds: float = Field(
        8 * 3600, gt=0, description="a console session unused this long is signed out")
    supervisor_url: str = Field(
        "", pattern=r"^(unix:///.+)?$",
        description="the local supervisord's socket (`unix:///…/supervisord.sock`), whose "
                    "services the console restarts; set by `python -m stack`. Empty: no local "
                    "supervisor (Docker Compose), the console offers no restarts")
    play_url: str = Field(
        "", description="the address phones open to play (QR codes on the start page, the "
                        "attract screen, the wall and a show), e.g. http://192.168.1.20/ on "
                        "the stand's Wi-Fi; empty: the address the screen was opened with")
    wifi_ssid: str = Field(
        "", max_length=32, description="the stand's Wi-Fi, offered as a second QR code beside "
                                       "the game's; empty: no Wi-Fi code")
    wifi_password: SecretStr | None = Field(None, description="the stand's Wi-Fi password")
    wifi_security: Literal["WPA", "WEP"] = Field("WPA", description="the Wi-Fi's security")
    show_lobby_seconds: float = Field(
        90, ge=2, le=900, description="a crowd show waits this long for phones to join; "
                                       "nobody joined: back to the attract screen")
    show_answer_seconds: float = Field(
        20, ge=1, le=120, description="seconds the phones have to answer a round of a show")
    show_reveal_seconds: float = Field(
        12, ge=1, le=120, description="seconds a show's answer stays on the big screen")
    show_max_phones: int = Field(500, ge=1, le=5000, description="phones one show takes")
    show_ttl: float = Field(
        4 * 3600, ge=600, description="seconds a show's state is kept after it was written")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
