"""The explainer's settings, from ``EXPLAINER_*`` environment variables."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from model.client import MODEL_NAME


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXPLAINER_")

    host: str = "127.0.0.1"  # the Docker image sets 0.0.0.0; only the dashboard faces visitors
    port: int = 5001
    model_url: str = "http://localhost:8501"
    model_name: str = MODEL_NAME
    model_timeout: float = Field(10.0, gt=0, description="seconds per model call")
    max_body_bytes: int = Field(10 * 1024 * 1024, gt=0)
    max_batch: int = Field(16, gt=0)
    max_pixels: int = Field(40_000_000, gt=0, description="per photo, read from its header")
    body_timeout: float = Field(15.0, gt=0, description="seconds to receive a request body")
    alpha: float = Field(0.6, ge=0, le=1, description="heatmap weight where the AI looked most")
    jpeg_quality: int = Field(90, ge=1, le=100)
    log_level: str = "INFO"
