"""Settings from ``IMAGE_SERVER_*`` environment variables, with defaults for a local run."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from model_api.contract import newest_version
from model_api.dataset import REPO_ROOT


class Settings(BaseSettings):
    """One object for the server and the prepare step, so both agree on the pool's place."""

    model_config = SettingsConfigDict(env_prefix="IMAGE_SERVER_")

    host: str = Field(
        "127.0.0.1",
        description="where it listens; only the dashboard faces visitors (Docker "
                    "serves the pool with nginx)")
    port: int = Field(8081, description="the photos, the manifest and the model card")
    pool_dir: Path = Field(
        REPO_ROOT / ".cache" / "photo_pool",
        description="photos are copied out of the dataset here, never into the repository "
                    "(.cache is ignored)")
    model_version_dir: Path = Field(
        default_factory=newest_version,
        description="the model version whose test split and class list make the pool "
                    "(default: the newest, the one the model server serves)")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
    photo_max_age: int = Field(
        default=86400, ge=0,
        description="seconds browsers may keep a photo: its URL never changes content")
    # Nothing here takes a body, but a client that announces one must not hold a connection.
    body_timeout: float = Field(default=15.0, gt=0, description="seconds to receive a body")

    @field_validator("model_version_dir")
    @classmethod
    def _newest_in_an_export_folder(cls, value: Path) -> Path:
        """A folder of numbered versions (as TF Serving's model base path, which
        docker-compose mounts) stands for its newest version, the one TF Serving serves."""
        if value.is_dir() and any(p.name.isdigit() and p.is_dir() for p in value.iterdir()):
            return newest_version(value)
        return value
