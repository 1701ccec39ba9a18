"""``python -m model.serving``: the model over TF Serving's REST API on :8501 (gRPC :8500)."""
from common.logs import setup_logging
from common.web import run
from model.serving.app import create_app
from model.serving.settings import Settings


def main() -> None:
    settings = Settings()
    setup_logging("model_server", settings.log_level)
    run(create_app(settings), settings.host, settings.rest_port)


if __name__ == "__main__":
    main()
