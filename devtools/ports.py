"""Free loopback ports for the services that tests and benchmarks start.

Alone, the OS picks them. Under pytest-xdist (``PYTEST_XDIST_WORKER=gwN``) each worker draws
from a block of its own below the kernel's ephemeral range (32768 and up), so two workers never
hand out the same port, and no outgoing connection's local port takes one meanwhile. A worker
walks its block from a random start, so a port it just freed is not handed out again at once.
"""
from __future__ import annotations

import itertools
import os
import random
import socket
from contextlib import ExitStack

BLOCKS_START, BLOCK_SIZE, MAX_WORKERS = 10_000, 2_000, 11  # 10000–31999: below 32768
_walk = itertools.count(random.randrange(BLOCK_SIZE))


def _block() -> range | None:
    """This xdist worker's ports; None when not under xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return None
    index = int(worker[2:])
    if index >= MAX_WORKERS:
        raise RuntimeError(f"at most {MAX_WORKERS} test workers have ports of their own")
    start = BLOCKS_START + index * BLOCK_SIZE
    return range(start, start + BLOCK_SIZE)


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """``n`` distinct ports nothing listens on now: all held at once while they are picked."""
    block = _block()
    with ExitStack() as stack:
        held: list[socket.socket] = []
        for _ in range(BLOCK_SIZE):
            if len(held) == n:
                break
            s = stack.enter_context(socket.socket())
            try:
                s.bind((host, 0 if block is None else block[next(_walk) % BLOCK_SIZE]))
            except OSError:  # taken, or in TIME_WAIT: the next one
                continue
            held.append(s)
        if len(held) < n:
            raise RuntimeError(f"fewer than {n} free ports in {block}")
        return [s.getsockname()[1] for s in held]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now."""
    return free_ports(1, host)[0]
