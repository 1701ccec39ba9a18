"""Start the project's services as real processes on free loopback ports, for tests.

The process handling is ``stack.supervisor``'s, the launcher's own: what the tests exercise is
how ``python -m stack`` starts, waits for and stops the services.
"""
from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stack.settings import Settings as StackSettings
from stack.supervisor import (
    Child,
    Service,
    free_port,
    python_module,
    spawn,
    stop_processes,
    wait_healthy,
)

REPO = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_S = 20.0


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Poll ``url`` until it answers 200; fail early if the process died."""
    wait_healthy([Child(str(proc.args), proc, url)], timeout)


def start(command: str | list[str], env: dict[str, str], ready_path: str,
          port: int) -> subprocess.Popen:
    """Run ``python -m <command>`` (or the argv ``command``); return once ``ready_path``
    answers 200."""
    argv = python_module(command) if isinstance(command, str) else command
    child = spawn(Service(argv[-1], argv, env, f"http://127.0.0.1:{port}{ready_path}"), REPO)
    try:
        wait_healthy([child], timeout=120)
    except BaseException:
        stop(child.proc)
        raise
    return child.proc


def stop(proc: subprocess.Popen) -> int:
    """SIGTERM, as Docker and Ctrl-C do; return the exit code (killed if it hangs)."""
    return stop_processes([proc], STOP_TIMEOUT_S)[0]


@contextmanager
def service(command: str | list[str], env: dict[str, str], ready_path: str,
            port: int) -> Iterator[str]:
    """A service process for the duration of the ``with`` block; yields its base URL."""
    proc = start(command, env, ready_path, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def closed_url() -> str:
    """A loopback URL nothing listens on: a service that is down."""
    return f"http://127.0.0.1:{free_port()}"


@contextmanager
def model_server(port: int | None = None, **env: str) -> Iterator[str]:
    """The local TF-Serving-compatible model server over the committed SavedModel."""
    port = port or free_port()
    settings = {"MODEL_SERVER_HOST": "127.0.0.1", "MODEL_SERVER_REST_PORT": str(port),
                "MODEL_SERVER_GRPC_PORT": "0", **env}
    with service("model.serving", settings, "/v1/models/car_classifier", port) as url:
        yield url


@contextmanager
def image_server(pool_dir: Path) -> Iterator[str]:
    """The local image server over a pool that ``image_server.pool.prepare_pool`` wrote."""
    port = free_port()
    env = {"IMAGE_SERVER_HOST": "127.0.0.1", "IMAGE_SERVER_PORT": str(port),
           "IMAGE_SERVER_POOL_DIR": str(pool_dir)}
    with service("image_server", env, "/health", port) as url:
        yield url


@contextmanager
def explainer(model_url: str, **env: str) -> Iterator[str]:
    port = free_port()
    settings = {"EXPLAINER_HOST": "127.0.0.1", "EXPLAINER_PORT": str(port),
                "EXPLAINER_MODEL_URL": model_url, **env}
    with service("explainer", settings, "/health", port) as url:
        yield url


@contextmanager
def dashboard(model_url: str, explainer_url: str, image_server_url: str,
              port: int | None = None, **env: str) -> Iterator[str]:
    """The dashboard as ``python -m stack`` runs it (its gunicorn command); ``env`` adds
    ``DASHBOARD_*`` settings. Its game store is a fresh directory unless ``env`` names one."""
    port = port or free_port()
    argv = StackSettings(dashboard_host="127.0.0.1", dashboard_port=port).dashboard_argv()
    env = {"DASHBOARD_MODEL_URL": model_url, "DASHBOARD_EXPLAINER_URL": explainer_url,
           "DASHBOARD_IMAGE_SERVER_URL": image_server_url,
           "DASHBOARD_STORE_DIR": env.pop("DASHBOARD_STORE_DIR", None) or tempfile.mkdtemp(),
           **env}
    with service(argv, env, "/health", port) as url:
        yield url
