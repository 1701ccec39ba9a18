"""Processes that end with their parent, so nothing outlives the launcher (Linux)."""
from __future__ import annotations

import ctypes
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies, however it dies
    (SIGKILL included): a supervisor killed outright then leaves no orphan holding a port.

    For ``Popen(preexec_fn=...)`` and gunicorn's ``post_fork``; a no-op off Linux.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
