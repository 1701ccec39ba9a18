"""What every game store shares: its errors, its contract, the keys it takes, and the one
place that turns a game into bytes and back.

Games are pickled (only the stores write them) behind a header that names the shape of the
game's dataclasses, and read back by an unpickler that builds nothing but those classes: a game
saved by other code, a damaged entry or a crafted one reads as "no game", never a crash.
"""
from __future__ import annotations

import hashlib
import io
import pickle
import re
from collections.abc import Callable
from dataclasses import fields
from typing import Protocol, TypeVar

from dashboard import game as game_module
from dashboard.game import Game

T = TypeVar("T")
MAX_KEY = 64
KEY = re.compile(r"[A-Za-z0-9_-]+")


class StoreBusy(TimeoutError):
    """Another process held the store's lock too long (e.g. a worker frozen mid-write)."""


class StoreUnavailable(StoreBusy):
    """The store's server did not answer (Redis down, unreachable, slower than the timeout,
    or refusing writes): callers treat it as they treat a busy store."""


class GameStore(Protocol):
    """One game per session id; ``update`` is an atomic read-modify-write of the game."""

    def get(self, session_id: str) -> Game | None: ...
    def put(self, session_id: str, game: Game) -> None: ...
    def update(self, session_id: str, change: Callable[[Game], T]) -> T | None: ...
    def delete(self, session_id: str) -> None: ...
    def close(self) -> None: ...


def check_key(session_id: object) -> str:
    """Refuse anything but a short plain string, whatever the caller checked before."""
    if (not isinstance(session_id, str) or len(session_id) > MAX_KEY
            or not KEY.fullmatch(session_id)):
        raise ValueError(f"a session id is 1 to {MAX_KEY} letters, digits, '-' or '_'")
    return session_id


# --- serialization: the one place that turns a game into bytes and back ---

def _shape() -> bytes:
    """Changes with the fields of the stored dataclasses, so games that an older version of
    the code saved read as no game instead of half-filled objects."""
    shape = [(cls.__name__, [(f.name, str(f.type)) for f in fields(cls)])
             for cls in (game_module.Game, game_module.Round, game_module.Car)]
    return b"game:" + hashlib.sha256(repr(shape).encode()).digest()[:8]


FORMAT = _shape()
GAME_CLASSES = frozenset({"Game", "Round", "Car"})


class _GameUnpickler(pickle.Unpickler):
    """Builds only the game's own classes: a crafted entry cannot run code."""

    def find_class(self, module: str, name: str) -> type:
        if module == game_module.__name__ and name in GAME_CLASSES:
            return getattr(game_module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a game")


def dumps(game: Game) -> bytes:
    return FORMAT + pickle.dumps(game, protocol=pickle.HIGHEST_PROTOCOL)


def loads(blob: object) -> Game | None:
    """The stored game, or None for anything unreadable (old format, damaged, foreign)."""
    if not isinstance(blob, bytes) or not blob.startswith(FORMAT):
        return None
    try:
        game = _GameUnpickler(io.BytesIO(memoryview(blob)[len(FORMAT):])).load()
    except Exception:  # any damage reads as "no game"; the entry is then dropped
        return None
    return game if isinstance(game, Game) else None
