"""Settings from ``IMAGE_SERVER_*`` environment variables, with defaults for a local run."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from model.contract import DEFAULT_EXPORT_DIR
from model.dataset import REPO_ROOT


class Settings(BaseSettings):
    """One object for the server and the prepare step, so both agree on the pool's place."""

    model_config = SettingsConfigDict(env_prefix="IMAGE_SERVER_")

    host: str = "127.0.0.1"  # only the dashboard faces visitors (Docker serves with nginx)
    port: int = 8081
    # Photos are copied out of the dataset here, never into the repository (.cache is ignored).
    pool_dir: Path = REPO_ROOT / ".cache" / "photo_pool"
    model_version_dir: Path = DEFAULT_EXPORT_DIR / "1"
    log_level: str = "INFO"
    # A photo's URL never changes content, so browsers may keep it this long (seconds).
    photo_max_age: int = Field(default=86400, ge=0)
    # Nothing here takes a body, but a client that announces one must not hold a connection.
    body_timeout: float = Field(default=15.0, gt=0, description="seconds to receive a body")
