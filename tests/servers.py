"""Start the project's services as real processes on free loopback ports, for tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Poll ``url`` until it answers 200; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def start(module: str, env: dict[str, str], ready_path: str, port: int) -> subprocess.Popen:
    """Run ``python -m <module>`` and return once ``ready_path`` answers 200."""
    proc = subprocess.Popen(
        [sys.executable, "-m", module], cwd=REPO, env={**os.environ, **env},
        stdout=subprocess.DEVNULL,  # logs go to stderr, which pytest captures
    )
    try:
        wait_http(f"http://127.0.0.1:{port}{ready_path}", proc)
    except BaseException:
        stop(proc)
        raise
    return proc


def stop(proc: subprocess.Popen) -> int:
    """SIGTERM, as Docker and Ctrl-C do; return the exit code (killed if it hangs)."""
    proc.terminate()
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


@contextmanager
def service(module: str, env: dict[str, str], ready_path: str, port: int) -> Iterator[str]:
    """A service process for the duration of the ``with`` block; yields its base URL."""
    proc = start(module, env, ready_path, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@contextmanager
def model_server(**env: str) -> Iterator[str]:
    """The local TF-Serving-compatible model server over the committed SavedModel."""
    port = free_port()
    settings = {"MODEL_SERVER_HOST": "127.0.0.1", "MODEL_SERVER_REST_PORT": str(port),
                "MODEL_SERVER_GRPC_PORT": "0", **env}
    with service("model.serving", settings, "/v1/models/car_classifier", port) as url:
        yield url
