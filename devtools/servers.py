"""Start the project's services as real processes on free loopback ports, for tests.

Each runs as ``python -m stack`` would run it (same interpreter, same commands), as a child
of the test: its own process group (a hung one is killed with what it started), its log on
stderr, and dead with the test run if that is killed (PR_SET_PDEATHSIG). The whole launcher,
under supervisord, is ``devtools/launcher.py``.
"""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from common.process import die_with_parent
from devtools.ports import free_port
from stack.health import is_up
from stack.services import python_module
from stack.settings import Settings as StackSettings

REPO = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_S = 20.0
STDERR_FD = 2  # fd 2 itself: sys.stderr may be a stand-in without one (pytest capsys)


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Poll ``url`` until it answers 200; fail early, with its exit code, if the process died."""
    deadline = time.monotonic() + timeout
    while not is_up(url):
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with code {proc.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:g} s")
        time.sleep(0.2)


def start(command: str | list[str], env: dict[str, str], ready_path: str,
          port: int) -> subprocess.Popen:
    """Run ``python -m <command>`` (or the argv ``command``); return once ``ready_path``
    answers 200."""
    argv = python_module(command) if isinstance(command, str) else command
    proc = subprocess.Popen(argv, cwd=REPO, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                            stdout=STDERR_FD, process_group=0, preexec_fn=die_with_parent)
    try:
        wait_http(f"http://127.0.0.1:{port}{ready_path}", proc)
    except BaseException:
        stop(proc)
        raise
    return proc


def stop(proc: subprocess.Popen) -> int:
    """SIGTERM, as Docker and Ctrl-C do; return the exit code (-SIGKILL: it hung, and it and
    its process group were killed)."""
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait()


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
              port: int | None = None, console_port: int = 0, **env: str) -> Iterator[str]:
    """The dashboard as ``python -m stack`` runs it (its gunicorn command, listening on
    ``console_port`` too when given); ``env`` adds ``DASHBOARD_*`` settings. Its game store and
    statistics are fresh unless ``env`` names them."""
    port = port or free_port()
    stack = StackSettings(dashboard_host="127.0.0.1", dashboard_port=port,
                          console_port=console_port)
    argv = stack.dashboard_argv()
    env = {**({"DASHBOARD_CONSOLE_PORT": str(console_port)} if console_port else {}), **env}
    env = {"DASHBOARD_MODEL_URL": model_url, "DASHBOARD_EXPLAINER_URL": explainer_url,
           "DASHBOARD_IMAGE_SERVER_URL": image_server_url,
           "DASHBOARD_STORE_DIR": env.pop("DASHBOARD_STORE_DIR", None) or tempfile.mkdtemp(),
           "DASHBOARD_DATABASE_URL": env.pop("DASHBOARD_DATABASE_URL", None)
           or f"sqlite:///{tempfile.mkdtemp()}/stats.sqlite3",
           # No answers kept from before, and no warm-up of the whole pool eating the CPU
           # other tests measure on, unless a test asks (tests/test_output_cache.py does).
           "DASHBOARD_ANSWER_CACHE_DIR": tempfile.mkdtemp(),
           "DASHBOARD_WARM_ANSWERS": "0",
           **env}
    with service(argv, env, "/health", port) as url:
        yield url
