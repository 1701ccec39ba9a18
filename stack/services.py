"""The four services of the game, and the one-off step before them: what each runs and answers.

The launcher writes them into supervisord's config, waits on their health URLs at launch, and
the health-check listener checks the same URLs for as long as they run.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

from model.contract import MODEL_NAME
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


def backends(settings: Settings) -> list[Service]:
    """The services the dashboard calls; none needs another to start, so they start together."""
    return [
        Service("model-server", python_module("model.serving"), settings.model_server_env(),
                f"{settings.model_url}/v1/models/{MODEL_NAME}"),
        Service("image-server", python_module("image_server"), settings.image_server_env(),
                f"{settings.image_server_url}/health"),
        Service("explainer", python_module("explainer"), settings.explainer_env(),
                f"{settings.explainer_url}/health"),
    ]


def dashboard(settings: Settings) -> Service:
    return Service("dashboard", settings.dashboard_argv(), settings.dashboard_env(),
                   f"{settings.dashboard_url}/health", autostart=False)


def services(settings: Settings) -> list[Service]:
    """Every long-running service, in start order."""
    return [*backends(settings), dashboard(settings)]
