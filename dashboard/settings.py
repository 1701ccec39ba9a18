"""Dashboard settings, from ``DASHBOARD_*`` environment variables."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DASHBOARD_")

    model_url: str = "http://localhost:8501"
    explainer_url: str = "http://localhost:5001"
    image_server_url: str = "http://localhost:8081"
    request_timeout: float = Field(10.0, gt=0, description="seconds per call to a service")
    rounds: int = Field(5, ge=1, le=20)
    ready_games: int = Field(2, ge=0, description="games prepared ahead for the next visitors")
    game_ttl: float = Field(6 * 3600, gt=0, description="seconds a game is kept after last use")
    max_games: int = Field(20_000, gt=0)
    log_level: str = "INFO"
