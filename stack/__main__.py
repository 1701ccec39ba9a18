"""``python -m stack``: the whole game on this machine, from one command.

Prepares the photo pool, starts the model server, image server and explainer together, starts
the dashboard (gunicorn) once they all answer, prints the game's URL and runs until Ctrl-C,
which stops everything. If any service dies, the others are stopped and the exit code is 1.
Settings: ``PLAY_*`` environment variables (stack/settings.py); the services' logs go to
stderr as JSON lines, these messages to stdout.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from common.cli import answer_help
from stack.settings import Settings
from stack.supervisor import (
    ChildExited,
    Interrupted,
    Supervisor,
    bind_error,
)
from stack.system import say, start_all

REPO = Path(__file__).resolve().parent.parent


def ports_in_use(settings: Settings) -> list[str]:
    return [f"{name} on {host}:{port}: {error.strerror}"
            for name, host, port in settings.listeners() if (error := bind_error(host, port))]


def play(supervisor: Supervisor, settings: Settings) -> int:
    """Start everything and run until a signal (0) or a failure (1)."""
    try:
        start_all(supervisor, settings)
        rule = "=" * 64
        say(f"\n{rule}\n  Beat the AI is ready: {settings.dashboard_url}\n"
            f"  Press Ctrl-C to stop.\n{rule}\n")
        supervisor.watch()
    except Interrupted as exc:
        say(f"\n{exc}: stopping all services…")
        return 0
    except (ChildExited, TimeoutError) as exc:
        say(f"ERROR: {exc} (its log is above); stopping all services…")
        return 1
    except OSError as exc:  # the command itself could not be run (PLAY_DASHBOARD_COMMAND)
        say(f"ERROR: could not start a service: {exc}; stopping all services…")
        return 1


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
    with Supervisor(REPO) as supervisor:
        code = play(supervisor, settings)
        problems = supervisor.stop_all()
    for problem in problems:
        say(f"ERROR: {problem}")
    say("Stopped." if not problems else "Stopped, not cleanly.")
    return 1 if problems else code


if __name__ == "__main__":
    raise SystemExit(main())
