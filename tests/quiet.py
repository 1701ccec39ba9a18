"""A quiet machine for the tests that measure time, while the suite runs on parallel workers.

Every test holds a shared lock on one file for as long as it runs; a test marked ``quiet``
holds it exclusively, so it starts once the other workers' current tests have ended and none
starts beside it. A turnstile (a second lock, held by the quiet test while it waits) keeps new
tests from slipping in ahead of it. The locks live where every worker of one run finds them
(beside the workers' temporary directories); without parallel workers nothing is locked.
"""
from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def sharing(folder: Path, quiet: bool) -> Iterator[None]:
    """Run the ``with`` block beside other tests, or alone when ``quiet``."""
    with (folder / "machine.lock").open("a") as machine, \
            (folder / "turnstile.lock").open("a") as turnstile:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(machine, fcntl.LOCK_EX if quiet else fcntl.LOCK_SH)
        finally:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(machine, fcntl.LOCK_UN)


def parallel() -> bool:
    """Is this a pytest-xdist worker?"""
    return "PYTEST_XDIST_WORKER" in os.environ
