"""``python -m dashboard``: Flask's development server, for working on the pages.
At the fair (and in ``make play``) gunicorn serves ``dashboard.app:create_server()``."""
from common.logs import setup_logging
from dashboard.app import create_app
from dashboard.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    setup_logging("dashboard", settings.log_level)
    create_app(settings).run(host="127.0.0.1", port=8050, debug=False)
