"""Settings of ``python -m stack`` (``PLAY_*`` environment variables), and each service's env.

Every address is set once here and handed to both sides, the service that listens and the
services that call it, so they cannot disagree. The launcher hands its settings on to the
health-check listener it runs under supervisord (``as_env``), so both read the same values.
"""
from __future__ import annotations

import os
import shlex
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO = Path(__file__).resolve().parent.parent
# gunicorn through this interpreter, so the virtualenv's copy runs even when it is not on PATH.
DASHBOARD_COMMAND = ("{python} -m gunicorn --config python:dashboard.gunicorn_conf "
                     "--bind {host}:{port} 'dashboard.app:create_server()'")
# supervisord's XML-RPC socket, in run_dir: the launcher, its health-check listener and the
# dashboard's console (DASHBOARD_SUPERVISOR_URL) reach supervisord there.
SUPERVISORD_SOCKET = "supervisord.sock"
# Where a client reaches a server that listens on every interface.
_LOCAL_FOR_WILDCARD = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}

Port = Annotated[int, Field(ge=1, le=65535)]


def _url(host: str, port: int) -> str:
    host = _LOCAL_FOR_WILDCARD.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class Settings(BaseSettings):
    """Where each service listens, how long start-up may take, how services are supervised."""

    model_config = SettingsConfigDict(env_prefix="PLAY_")

    host: str = Field(
        "127.0.0.1",
        description="the back-ends' address: only the dashboard has to face the visitors")
    dashboard_host: str = Field(
        "127.0.0.1", description="0.0.0.0 opens the game to other machines")
    model_port: Port = Field(8501, description="the model server's REST port")
    model_grpc_port: int = Field(8500, ge=0, le=65535, description="0 turns gRPC off")
    explainer_port: Port = Field(5001, description="the explainer's port")
    image_server_port: Port = Field(8081, description="the image server's port")
    dashboard_port: Port = Field(8050, description="the game's port")
    console_port: int = Field(
        0, ge=0, le=65535,
        description="the operator console's own port on the dashboard's host (0: the console "
                    "is on the game's port); `make kiosk` sets 8052, so that the big screen, "
                    "which only ever shows the game's port, cannot reach it")
    # Dashboard workers (gunicorn processes). More than one, or redis=True, and the launcher
    # runs Redis as one more service and hands it to the dashboard as its game store.
    workers: int = Field(1, ge=1, le=16, description="dashboard worker processes")
    redis: bool | None = Field(
        None, description="run Redis for the game store; unset: only when workers > 1")
    redis_port: Port = Field(6379, description="the launcher's Redis, when it runs one")
    redis_max_bytes: int = Field(
        512 * 1024 * 1024, ge=1024 * 1024,
        description="Redis's maxmemory; beyond it the least recently used keys go")
    startup_timeout: float = Field(
        180.0, gt=0,
        description="seconds for the back-ends, then for the dashboard, to answer at launch; "
                    "the model server alone takes 10-20 s to load TensorFlow")
    dashboard_command: str = Field(
        DASHBOARD_COMMAND, description="{python}, {host} and {port} are filled in")
    run_dir: Path = Field(
        REPO / ".cache" / "stack",
        description="supervisord's config, control socket and own log (rotated)")
    # supervisord: a service that exits is started again at once.
    start_seconds: float = Field(
        10.0, ge=0, description="a service that exits within this many seconds of starting "
                                "has failed to start; retried after 1, 2, 3… s")
    start_retries: int = Field(
        3, ge=0, description="failed starts in a row after which a service is given up on "
                             "(FATAL)")
    stop_timeout: float = Field(
        15.0, gt=0,
        description="seconds from SIGTERM to SIGKILL; longer than gunicorn's and aiohttp's "
                    "graceful 10 s. A frozen (SIGSTOPped) process only ever dies of the SIGKILL")
    # Health checks, named as Docker's: every interval, a service running for start_period (or
    # answering once since it started) is restarted after `retries` failed checks in a row.
    health_interval: int = Field(
        5, ge=5, multiple_of=5, description="seconds; supervisord's TICK_5 events drive it")
    health_timeout: float = Field(2.0, gt=0, description="seconds per check")
    health_retries: int = Field(
        3, ge=1, description="failed checks in a row after which a service is restarted")
    health_start_period: float = Field(
        60.0, ge=0, description="seconds in which a fresh service's failed checks do not count")

    @model_validator(mode="after")
    def _ports_distinct(self) -> Settings:
        counts = Counter(port for _, _, port in self.listeners())
        if shared := sorted(port for port, n in counts.items() if n > 1):
            raise ValueError(f"more than one service set to listen on port(s) {shared}")
        return self

    def as_env(self) -> dict[str, str]:
        """These settings as the ``PLAY_*`` variables that read back as them (an unset one
        stays unset)."""
        return {f"PLAY_{name.upper()}": str(value) for name, value in self.model_dump().items()
                if value is not None}

    @property
    def uses_redis(self) -> bool:
        return self.workers > 1 if self.redis is None else self.redis

    @property
    def redis_dir(self) -> Path:
        """Redis's snapshot of the games: a restarted Redis (or stack) continues them."""
        return self.run_dir / "redis"

    def listeners(self) -> list[tuple[str, str, int]]:
        """``(service, host, port)`` of every socket the services will listen on."""
        listeners = [
            ("model server", self.host, self.model_port),
            ("model server (gRPC)", self.host, self.model_grpc_port),
            ("image server", self.host, self.image_server_port),
            ("explainer", self.host, self.explainer_port),
            ("dashboard", self.dashboard_host, self.dashboard_port),
            ("operator console", self.dashboard_host, self.console_port),
        ]
        if self.uses_redis:
            listeners.insert(0, ("redis", self.host, self.redis_port))
        return [listener for listener in listeners if listener[2]]

    @property
    def model_url(self) -> str:
        return _url(self.host, self.model_port)

    @property
    def image_server_url(self) -> str:
        return _url(self.host, self.image_server_port)

    @property
    def explainer_url(self) -> str:
        return _url(self.host, self.explainer_port)

    @property
    def dashboard_url(self) -> str:
        return _url(self.dashboard_host, self.dashboard_port)

    @property
    def supervisor_url(self) -> str:
        """supervisord's XML-RPC interface, for the dashboard's console (its restarts)."""
        return f"unix://{self.run_dir.resolve() / SUPERVISORD_SOCKET}"

    @property
    def redis_url(self) -> str:
        return _url(self.host, self.redis_port).replace("http://", "redis://", 1) + "/0"

    def model_server_env(self) -> dict[str, str]:
        return {
            "MODEL_SERVER_HOST": self.host,
            "MODEL_SERVER_REST_PORT": str(self.model_port),
            "MODEL_SERVER_GRPC_PORT": str(self.model_grpc_port),
            # TensorFlow's C++ start-up lines are not JSON: off unless asked for (as in Makefile)
            "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        }

    def image_server_env(self) -> dict[str, str]:
        """For the server and its prepare step; both read the pool's place from the caller's
        ``IMAGE_SERVER_POOL_DIR``, so they agree on it too."""
        return {"IMAGE_SERVER_HOST": self.host, "IMAGE_SERVER_PORT": str(self.image_server_port)}

    def explainer_env(self) -> dict[str, str]:
        return {
            "EXPLAINER_HOST": self.host,
            "EXPLAINER_PORT": str(self.explainer_port),
            "EXPLAINER_MODEL_URL": self.model_url,
        }

    def dashboard_env(self) -> dict[str, str]:
        """Its back-ends, its workers, the stack's Redis as its game store when there is one
        (else ``DASHBOARD_STORE_URL`` comes from the caller, or the on-disk default), and
        supervisord, whose programs the operator's console restarts."""
        return {
            "DASHBOARD_MODEL_URL": self.model_url,
            "DASHBOARD_EXPLAINER_URL": self.explainer_url,
            "DASHBOARD_IMAGE_SERVER_URL": self.image_server_url,
            "DASHBOARD_WORKERS": str(self.workers),
            "DASHBOARD_SUPERVISOR_URL": self.supervisor_url,
            **({"DASHBOARD_CONSOLE_PORT": str(self.console_port)} if self.console_port else {}),
            **({"DASHBOARD_STORE_URL": self.redis_url} if self.uses_redis else {}),
        }

    def dashboard_argv(self) -> list[str]:
        """``dashboard_command`` as argv; placeholders are filled per word, after splitting.
        With a console port, gunicorn listens there too."""
        argv = [word.format(python=sys.executable, host=self.dashboard_host,
                            port=self.dashboard_port)
                for word in shlex.split(self.dashboard_command)]
        return argv + (["--bind", f"{self.dashboard_host}:{self.console_port}"]
                       if self.console_port else [])

    @property
    def console_url(self) -> str:
        """Where the operator's console is (not every stand has one: docs/operator.md)."""
        return _url(self.dashboard_host, self.console_port or self.dashboard_port) + "/operator"
