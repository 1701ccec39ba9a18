"""Model server settings, from ``MODEL_SERVER_*`` environment variables."""
from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from model.contract import DEFAULT_EXPORT_DIR, MODEL_NAME


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MODEL_SERVER_")

    host: str = "0.0.0.0"
    rest_port: int = 8501
    grpc_port: int = 8500  # 0 turns gRPC off
    model_name: str = MODEL_NAME
    model_base_path: Path = DEFAULT_EXPORT_DIR
    max_batch_size: int = 32  # rows merged into one model call across concurrent requests
    batch_timeout_ms: float = 2.0  # how long a call waits for others to join its batch
    max_body_bytes: int = 64 * 1024 * 1024
    log_level: str = "INFO"
