"""Build the game's photo pool from the model's test split.

Reads the photos from ``$CARS_DATA_DIR`` and the split and classes from the model version in
``$IMAGE_SERVER_MODEL_VERSION_DIR``; writes to ``$IMAGE_SERVER_POOL_DIR``. Photos whose visible
text names the car are left out and listed in ``giveaways.json`` there: the committed
``image_server/text_scan.csv`` decides for the photos it lists, any other photo is read with OCR
(Debian's tesseract-ocr) and cached in ``.cache/text_scan/``.
"""
from __future__ import annotations

import logging

from common.cli import answer_help
from common.logs import setup_logging
from image_server.pool import prepare_pool
from image_server.settings import Settings
from model_api.dataset import data_dir

log = logging.getLogger("image_server.prepare")


def main() -> None:
    answer_help("python -m image_server.prepare", __doc__)
    settings = Settings()
    setup_logging("image_server", settings.log_level)
    try:
        manifest = prepare_pool(data_dir(), settings.model_version_dir, settings.pool_dir)
    except FileNotFoundError as exc:  # no dataset or no model: say which, without a traceback
        log.critical(str(exc))
        raise SystemExit(1) from None
    log.info("wrote %s; serve it with `python -m image_server`", manifest)


if __name__ == "__main__":
    main()
