"""Model server settings, from ``MODEL_SERVER_*`` environment variables."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from model_api.contract import DEFAULT_EXPORT_DIR, MODEL_NAME


def parse_labels(text: str) -> dict[str, int]:
    """``"stable=1,canary=2"`` (TF Serving's ``version_labels``) as a mapping."""
    labels = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        label, _, version = item.partition("=")
        if not label.strip() or not version.strip().isdigit():
            raise ValueError(f"version label {item!r} is not label=version")
        labels[label.strip()] = int(version)
    return labels


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MODEL_SERVER_")

    host: str = Field(
        "127.0.0.1", description="where it listens; 0.0.0.0 in a container (the "
                                 "dashboard is the only public face)")
    rest_port: int = Field(8501, description="TF Serving's REST API")
    grpc_port: int = Field(8500, description="TF Serving's gRPC API; 0 turns gRPC off")
    model_name: str = Field(MODEL_NAME, description="the model's name in URLs and model_spec")
    model_base_path: Path = Field(
        DEFAULT_EXPORT_DIR, description="the folder of numbered version directories")
    max_batch_size: int = Field(
        32, description="rows merged into one model call across concurrent requests")
    batch_timeout_ms: float = Field(
        2.0, description="how long a call waits for others to join its batch")
    max_body_bytes: int = Field(
        64 * 1024 * 1024, gt=0, description="the largest REST body and gRPC message")
    max_photos: int = Field(64, gt=0, description="photos (rows) per request")
    max_pixels: int = Field(40_000_000, gt=0, description="per photo, read from its header")
    body_timeout: float = Field(15.0, gt=0, description="seconds to receive a request body")
    version_labels: Annotated[dict[str, int], NoDecode] = Field(
        {}, description="TF Serving's model config version_labels: 'stable=1,canary=2' in "
                        "the environment")
    file_system_poll_wait_seconds: float = Field(
        1.0, gt=0, description="TF Serving's --file_system_poll_wait_seconds: how often the "
                               "base path is read for versions")
    rest_api_timeout_in_ms: int = Field(
        30_000, gt=0, description="TF Serving's --rest_api_timeout_in_ms: a REST request "
                                  "taking longer gets a 504")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")

    @field_validator("version_labels", mode="before")
    @classmethod
    def _labels(cls, value: object) -> object:
        return parse_labels(value) if isinstance(value, str) else value
