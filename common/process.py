"""Processes that end with their parent, so nothing outlives the launcher (Linux)."""
from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL, parent: int | None = None) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies, however it dies
    (SIGKILL included): a supervisor killed outright then leaves no orphan holding a port.

    ``parent`` is the pid this process must belong to (default: its parent now). A parent
    that died before the request was made gets no signal sent for it, so that case is checked
    after the request, and this process ends at once.

    For ``Popen(preexec_fn=...)`` and gunicorn's ``post_fork``; a no-op off Linux.
    """
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid() if parent is None else parent
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != parent:
        os.kill(os.getpid(), sig)
