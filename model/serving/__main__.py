"""``python -m model.serving``: the model over TF Serving's REST API on :8501 (gRPC :8500)."""
import logging
import os
import sys

from common.logs import setup_logging
from common.web import run
from model.serving.app import create_app
from model.serving.settings import Settings


def main() -> None:
    settings = Settings()
    setup_logging("model_server", settings.log_level)
    run(create_app(settings), settings.host, settings.rest_port)
    # Stopped cleanly by now: requests answered, gRPC stopped, the model's thread joined. The
    # interpreter's own teardown is all that is left, and in it gRPC's threads printed an empty
    # "Error in sys.excepthook" on most stops (issue 18): leave without it.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
