"""``python -m stack``: the whole game on this machine, from one command, self-healing.

Checks the ports, prepares the photo pool, then runs the model server, image server and
explainer under supervisord, starts the dashboard (gunicorn) once they answer, prints the
game's URL and runs until Ctrl-C (or SIGTERM, SIGHUP), which stops everything (exit 0).
A service that exits is started again; one that stops answering its health check a few times
in a row is restarted; one that keeps failing to start is given up on with an ERROR while the
rest keep serving. Nothing outlives the launcher, however it ends (SIGKILL included).
Settings: ``PLAY_*`` environment variables (stack/settings.py). The services' logs, and one
JSON line per restart, go to stderr; these messages to stdout.
"""
from __future__ import annotations

from pydantic import ValidationError

from common.cli import answer_help
from stack.launcher import play, ports_in_use, say
from stack.settings import Settings


def main() -> int:
    answer_help("python -m stack", __doc__)
    try:
        settings = Settings()
    except ValidationError as exc:
        say(f"ERROR: invalid PLAY_* settings: {exc}")
        return 2
    if busy := ports_in_use(settings):
        say("ERROR: cannot start, a port is taken (stop what uses it or set PLAY_*_PORT):\n  "
            + "\n  ".join(busy))
        return 1
    return play(settings)


if __name__ == "__main__":
    raise SystemExit(main())
