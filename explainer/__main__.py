"""``python -m explainer``: settings from the environment, JSON logs, serve until SIGTERM."""
from __future__ import annotations

from common.logs import setup_logging
from common.web import run
from explainer.app import create_app
from explainer.settings import Settings


def main() -> None:
    settings = Settings()
    setup_logging("explainer", settings.log_level)
    run(create_app(settings), settings.host, settings.port)


if __name__ == "__main__":
    main()
