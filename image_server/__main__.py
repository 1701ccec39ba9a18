"""Serve the prepared photo pool on HTTP.

Settings come from ``IMAGE_SERVER_*`` environment variables (HOST, PORT, POOL_DIR, LOG_LEVEL,
PHOTO_MAX_AGE, BODY_TIMEOUT); make the pool first with ``python -m image_server.prepare``.
"""
from __future__ import annotations

import logging

from common.cli import answer_help
from common.logs import setup_logging
from common.web import run
from image_server.app import create_app
from image_server.pool import PoolError
from image_server.settings import Settings

log = logging.getLogger("image_server")


def main() -> None:
    answer_help("python -m image_server", __doc__)
    settings = Settings()
    setup_logging("image_server", settings.log_level)
    try:
        app = create_app(settings)
    except PoolError as exc:
        log.critical(str(exc))
        raise SystemExit(1) from None
    log.info("listening", extra={"host": settings.host, "port": settings.port})
    run(app, settings.host, settings.port)


if __name__ == "__main__":
    main()
