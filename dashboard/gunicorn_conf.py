"""gunicorn settings for the dashboard: ``gunicorn -c python:dashboard.gunicorn_conf``.

The bind address comes from the command line (``--bind``); everything else is here, in one
place, for ``make play``, the tests and the Docker image alike.
"""
from __future__ import annotations

from common.process import die_with_parent

worker_class = "gthread"
workers = 1
threads = 8
graceful_timeout = 10
timeout = 20  # a worker that stops answering its heartbeat (hung, SIGSTOPped) is replaced
control_socket_disable = True  # gunicorn 25+: no control socket to leave behind


def post_fork(server, worker) -> None:  # noqa: ARG001 - gunicorn's hook signature
    """A worker dies with its master, even when the master is SIGKILLed."""
    die_with_parent()
