"""What the game hands the statistics (a game as it ended, its rounds) and what the queries
hand back, as plain checked values: no SQL, no Dash."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from dashboard.game import POINTS_EXACT, points
from dashboard.show.timeline import ShowRound, majority

MODES = ("expert", "easy")
INITIALS = re.compile(r"[A-Z]{3}")
LANGUAGE = re.compile(r"[a-z]{2}")
MAX_ROUNDS = 50

Mode = Literal["expert", "easy"]


@dataclass(frozen=True)
class RoundRecord:
    """One played round, as plain values: class names as the model names them."""
    photo: str  # the pool photo's file name
    true_class: str
    guess: str | None  # None: the visitor did not answer
    ai_guess: str
    human_points: int
    ai_points: int
    seconds: float | None = None  # time to answer; None when unknown or unanswered

    def __post_init__(self) -> None:
        for name in ("photo", "true_class", "ai_guess"):
            check_text(name, getattr(self, name))
        if self.guess is not None:
            check_text("guess", self.guess)
        for name in ("human_points", "ai_points"):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= POINTS_EXACT:
                raise ValueError(f"{name} must be an integer from 0 to {POINTS_EXACT}")
        if self.seconds is not None and not 0 <= self.seconds < 1e6:
            raise ValueError("seconds must be >= 0")


@dataclass(frozen=True)
class GameRecord:
    """One game as it ended: finished (every round played) or abandoned (visitor walked off)."""
    id: str  # the game's own id
    started_at: datetime  # timezone-aware
    ended_at: datetime  # timezone-aware; the UTC day of this instant is the game's day
    mode: Mode
    language: str  # "en", "de"
    finished: bool
    rounds: tuple[RoundRecord, ...]
    initials: str | None = None

    def __post_init__(self) -> None:
        check_text("id", self.id, 64)
        if self.started_at.tzinfo is None or self.ended_at.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        if self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if not LANGUAGE.fullmatch(self.language):
            raise ValueError("language must be a 2-letter code")
        if len(self.rounds) > MAX_ROUNDS:
            raise ValueError(f"at most {MAX_ROUNDS} rounds")
        if self.initials is not None:
            check_initials(self.initials)

    @property
    def human_points(self) -> int:
        return sum(r.human_points for r in self.rounds)

    @property
    def ai_points(self) -> int:
        return sum(r.ai_points for r in self.rounds)


SHOW_STATUSES = ("finished", "ended", "empty")  # played out; ended early; nobody joined
MAX_SHOW_ANSWERS = 100_000


@dataclass(frozen=True)
class ShowRoundRecord:
    """One revealed round of a crowd show: the crowd's majority answer against the AI's."""
    photo: str
    true_class: str
    crowd_guess: str | None  # None: no phone answered
    ai_guess: str
    crowd_points: int
    ai_points: int
    answers: int
    votes_right: int

    def __post_init__(self) -> None:
        for name in ("photo", "true_class", "ai_guess"):
            check_text(name, getattr(self, name))
        if self.crowd_guess is not None:
            check_text("crowd_guess", self.crowd_guess)
        for name in ("crowd_points", "ai_points"):
            if type(getattr(self, name)) is not int or not 0 <= getattr(self, name) <= POINTS_EXACT:
                raise ValueError(f"{name} must be an integer from 0 to {POINTS_EXACT}")
        if not 0 <= self.votes_right <= self.answers:
            raise ValueError("votes_right must be between 0 and answers")

    @classmethod
    def of(cls, played: ShowRound, votes: list[int]) -> ShowRoundRecord:
        """The round as the statistics keep it, from its script and the phones' votes."""
        crowd = majority(votes)
        guess = played.choices[crowd] if crowd is not None else None
        ai = played.ai[0][0]
        return cls(photo=played.photo, true_class=played.right.name,
                   crowd_guess=guess.name if guess else None, ai_guess=ai.name,
                   crowd_points=points(guess, played.right),
                   ai_points=points(ai, played.right), answers=sum(votes),
                   votes_right=votes[played.answer])


@dataclass(frozen=True)
class ShowAnswerRecord:
    """One phone's answer to one round (phones are numbered in the order they joined)."""
    round: int
    player: int
    choice: str
    right: bool
    points: int
    seconds: float

    def __post_init__(self) -> None:
        check_text("choice", self.choice)
        if not 0 <= self.round < MAX_ROUNDS or not 0 < self.player <= MAX_SHOW_ANSWERS:
            raise ValueError("round or player out of range")
        if not 0 <= self.points <= 10_000 or not 0 <= self.seconds < 1e6:
            raise ValueError("points or seconds out of range")


@dataclass(frozen=True)
class ShowRecord:
    """A crowd show as it ended."""
    id: str
    status: str
    language: str
    started_at: datetime
    ended_at: datetime
    players: int
    rounds: tuple[ShowRoundRecord, ...]
    answers: tuple[ShowAnswerRecord, ...]

    def __post_init__(self) -> None:
        check_text("id", self.id, 64)
        if self.status not in SHOW_STATUSES:
            raise ValueError(f"status must be one of {SHOW_STATUSES}")
        if not LANGUAGE.fullmatch(self.language):
            raise ValueError("language must be a 2-letter code")
        if self.started_at.tzinfo is None or self.ended_at < self.started_at:
            raise ValueError("timestamps must be aware and in order")
        if len(self.rounds) > MAX_ROUNDS or len(self.answers) > MAX_SHOW_ANSWERS:
            raise ValueError("too many rounds or answers")

    @property
    def crowd_points(self) -> int:
        return sum(r.crowd_points for r in self.rounds)

    @property
    def ai_points(self) -> int:
        return sum(r.ai_points for r in self.rounds)


def check_initials(initials: str) -> str:
    """Arcade initials: exactly three letters A–Z."""
    if not isinstance(initials, str) or not INITIALS.fullmatch(initials):
        raise ValueError("initials must be 3 letters A-Z")
    return initials


def check_text(name: str, value: object, limit: int = 255) -> None:
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise ValueError(f"{name} must be a non-empty string of at most {limit} characters")


# ---- what the queries hand back ----------------------------------------------------------

@dataclass(frozen=True)
class TopEntry:
    initials: str
    human_points: int
    ai_points: int


@dataclass(frozen=True)
class WallEntry:
    """A finished game with initials as the operator sees it: shown on the wall, or hidden."""
    game_id: str
    initials: str
    human_points: int
    ai_points: int
    hidden: bool


@dataclass(frozen=True)
class CarMisses:
    """A car and how often it was guessed wrong (not the exact class) out of how many tries."""
    class_name: str
    wrong: int
    tries: int

    @property
    def share(self) -> float:
        return self.wrong / self.tries


@dataclass(frozen=True)
class Fooling:
    visitors: list[CarMisses]  # the cars visitors miss most
    ai: list[CarMisses]  # the cars the AI misses most
