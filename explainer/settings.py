"""The explainer's settings, from ``EXPLAINER_*`` environment variables."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from model_api.client import MODEL_NAME


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXPLAINER_")

    host: str = Field(
        "127.0.0.1",
        description="where it listens; the Docker image sets 0.0.0.0 (only the "
                    "dashboard faces visitors)")
    port: int = Field(5001, description="POST /explain, GET /health")
    model_url: str = Field(
        "http://localhost:8501", description="the model server (TF Serving's REST API)")
    model_name: str = Field(MODEL_NAME, description="the served model whose gradcam it calls")
    model_timeout: float = Field(10.0, gt=0, description="seconds per model call")
    max_body_bytes: int = Field(
        10 * 1024 * 1024, gt=0, description="the largest request body (decoded)")
    max_batch: int = Field(16, gt=0, description="photos per {\"instances\": [...]} request")
    max_pixels: int = Field(40_000_000, gt=0, description="per photo, read from its header")
    body_timeout: float = Field(15.0, gt=0, description="seconds to receive a request body")
    alpha: float = Field(0.6, ge=0, le=1, description="heatmap weight where the AI looked most")
    jpeg_quality: int = Field(90, ge=1, le=100, description="of the overlay JPEG it answers")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
