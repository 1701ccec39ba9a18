"""The four services of the game, Redis when the dashboard shares its games, and the one-off
step before them: what each runs and answers.

The launcher writes them into supervisord's config, waits on their health URLs at launch, and
the health-check listener checks the same URLs for as long as they run.
"""
from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field

from common.supervisor_rpc import DASHBOARD, EXPLAINER, IMAGE_SERVER, MODEL_SERVER, REDIS
from model_api.contract import MODEL_NAME
from stack.settings import Settings


@dataclass(frozen=True)
class Service:
    """How to run one service under supervisord, and the URL that answers 200 while it is well.

    ``autostart`` False: the launcher starts it itself, once the services it calls answer.
    """

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    health_url: str = ""
    autostart: bool = True


def python_module(module: str) -> list[str]:
    """``python -m <module>`` with this interpreter, so a child runs in the same virtualenv."""
    return [sys.executable, "-m", module]


def prepare_pool(settings: Settings) -> Service:
    """Copies the game's photos out of the dataset once, before the image server serves them."""
    return Service("photo pool preparation", python_module("image_server.prepare"),
                   settings.image_server_env())


REDIS_SERVER = "redis-server"  # Debian's package of the same name (`make system-deps`)


def redis_server_binary() -> str | None:
    """Where ``redis-server`` is installed; None: it is not."""
    return shutil.which(REDIS_SERVER) or shutil.which(REDIS_SERVER, path="/usr/sbin:/usr/bin")


def redis(settings: Settings) -> Service:
    """Redis in the foreground, on ``host`` (loopback by default; on another address protected
    mode still refuses other machines, for it has no password), within ``redis_max_bytes``:
    beyond that the least recently used games go (``allkeys-lru``; its clock counts seconds).
    A snapshot in ``redis_dir`` a minute after a change and at a clean stop, so a restarted
    Redis continues the games; the health check is a PING."""
    argv = [redis_server_binary() or REDIS_SERVER,
            "--bind", settings.host, "--port", str(settings.redis_port), "--daemonize", "no",
            "--protected-mode", "yes", "--maxmemory", str(settings.redis_max_bytes),
            "--maxmemory-policy", "allkeys-lru", "--maxmemory-samples", "10",
            "--dir", str(settings.redis_dir.resolve()), "--dbfilename", "games.rdb",
            "--save", "60 1", "--appendonly", "no", "--loglevel", "warning"]
    return Service(REDIS, argv, {}, settings.redis_url)


def backends(settings: Settings) -> list[Service]:
    """The services the dashboard calls; none needs another to start, so they start together."""
    return [
        *([redis(settings)] if settings.uses_redis else []),
        Service(MODEL_SERVER, python_module("model.serving"), settings.model_server_env(),
                f"{settings.model_url}/v1/models/{MODEL_NAME}"),
        Service(IMAGE_SERVER, python_module("image_server"), settings.image_server_env(),
                f"{settings.image_server_url}/health"),
        Service(EXPLAINER, python_module("explainer"), settings.explainer_env(),
                f"{settings.explainer_url}/health"),
    ]


def dashboard(settings: Settings) -> Service:
    return Service(DASHBOARD, settings.dashboard_argv(), settings.dashboard_env(),
                   f"{settings.dashboard_url}/health", autostart=False)


def services(settings: Settings) -> list[Service]:
    """Every long-running service, in start order."""
    return [*backends(settings), dashboard(settings)]
