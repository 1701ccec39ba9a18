"""Game rules, scoring and state transitions: plain Python, no Dash, no I/O.

Scoring (stated in the rules on the start page): the right make earns 1 point, the exact
class (make, model and year) 3 points; the AI's top-1 guess is scored the same way.
"""
from __future__ import annotations

import random
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

POINTS_MAKE = 1
POINTS_EXACT = 3
HOME, ATTEMPT, RESULT, FINISH = "/", "/attempt", "/result", "/finish"
ATTRACT = "/attract"  # the kiosk's screen between visitors
STATS = "/stats"  # Humans vs AI on the wall
UPLOAD, EXPLORE, MODEL = "/upload", "/explore", "/model"  # the AI outside the game
OPERATOR = "/operator"  # the stand owner's console (behind its own password)
SHOW, JOIN = "/show", "/join"  # Crowd vs AI: the big screen's show, and a phone in it
OPEN_PAGES = (HOME, ATTRACT, STATS, UPLOAD, EXPLORE, MODEL, OPERATOR, SHOW, JOIN)
EXPERT, EASY = "expert", "easy"  # make then model; or one of four choices
MODES = (EXPERT, EASY)
CHOICES = 4
GAME_PAGES = (ATTEMPT, RESULT, FINISH)


@dataclass(frozen=True)
class Car:
    class_name: str  # e.g. "BMW M3 Coupe 2012", as the model names it
    make: str
    model: str
    year: int

    @property
    def label(self) -> str:
        """What the model picker shows once the make is chosen."""
        return f"{self.model} {self.year}"


def makes_of(cars: Iterable[Car]) -> list[str]:
    """As people read them: "Maybach", "MINI", "smart" in the alphabet's order."""
    return sorted({c.make for c in cars}, key=str.casefold)


@dataclass
class Round:
    photo: bytes
    answer: Car
    ai_top: list[tuple[Car, float]]  # the AI's top-5 with probabilities, best first
    overlay: bytes | None  # Grad-CAM overlay JPEG; None when the explainer failed
    guess: Car | None = None
    source: str = ""  # the pool photo it came from (its URL on the image server)
    seconds: float | None = None  # how long the visitor took to guess
    choices: list[Car] = field(default_factory=list)  # easy mode: the answer among distractors

    @property
    def ai_guess(self) -> Car:
        return self.ai_top[0][0]

    @property
    def your_points(self) -> int:
        return points(self.guess, self.answer)

    @property
    def ai_points(self) -> int:
        return points(self.ai_guess, self.answer)


class Named(Protocol):
    """What scoring reads of a car: a game's ``Car``, or a show's ``Choice``."""

    @property
    def class_name(self) -> str: ...
    @property
    def make(self) -> str: ...


def points(guess: Named | None, answer: Named) -> int:
    if guess is None:
        return 0
    if guess.class_name == answer.class_name:
        return POINTS_EXACT
    return POINTS_MAKE if guess.make == answer.make else 0


@dataclass
class Game:
    rounds: list[Round]
    current: int = 0  # index of the round being played; len(rounds) once finished
    explained: bool = True  # False: prepared while the explainer was down (no overlays)
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    started: float = field(default_factory=time.time)  # when its visitor got it (epoch s)
    round_started: float = field(default_factory=time.time)  # when the current round showed
    mode: str = EXPERT

    def begin(self, mode: str = EXPERT, now: float | None = None) -> None:
        """The game is handed to a visitor now (it may have been prepared long before), to be
        played in ``mode``."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.mode = mode
        self.started = self.round_started = time.time() if now is None else now

    @property
    def finished(self) -> bool:
        return self.current >= len(self.rounds)

    @property
    def round(self) -> Round | None:
        return None if self.finished else self.rounds[self.current]

    def guess(self, round_index: int, car: Car, now: float | None = None) -> bool:
        """Record the visitor's guess for the current round, once; later tries change nothing."""
        if round_index != self.current or self.finished or self.rounds[self.current].guess:
            return False
        played = self.rounds[self.current]
        played.guess = car
        played.seconds = max(0.0, (time.time() if now is None else now) - self.round_started)
        return True

    def next_round(self, round_index: int, now: float | None = None) -> bool:
        """Move on once the current round's result has been shown."""
        if round_index != self.current or self.finished or not self.rounds[self.current].guess:
            return False
        self.current += 1
        self.round_started = time.time() if now is None else now
        return True

    def scores(self) -> tuple[int, int]:
        """(you, AI) over the rounds guessed so far: the AI's points show with the result."""
        played = [r for r in self.rounds if r.guess is not None]
        return sum(r.your_points for r in played), sum(r.ai_points for r in played)

    def winner(self) -> str:
        """"you", "ai" or "draw": the pages say it in the visitor's language."""
        you, ai = self.scores()
        return "you" if you > ai else "ai" if ai > you else "draw"

    def page(self) -> str:
        """The page this game's state calls for."""
        if self.finished:
            return FINISH
        return RESULT if self.rounds[self.current].guess else ATTEMPT


def route(game: Game | None, path: str | None) -> str:
    """Where a request for ``path`` lands: out-of-order visits go to the page the state allows."""
    if path in OPEN_PAGES:
        return path
    if game is not None and path in GAME_PAGES:
        return game.page()
    return HOME


def choices(answer: Car, ai_top: list[Car], cars: list[Car], rng: random.Random) -> list[Car]:
    """The answer and CHOICES - 1 plausible distractors, shuffled: the AI's own close calls
    first, then cars of the same make, then any."""
    distractors: list[Car] = []
    same_make = [c for c in cars if c.make == answer.make]
    for car in [*ai_top, *rng.sample(same_make, len(same_make)), *rng.sample(cars, len(cars))]:
        if car.class_name != answer.class_name and car not in distractors:
            distractors.append(car)
        if len(distractors) == CHOICES - 1:
            break
    picked = [answer, *distractors]
    rng.shuffle(picked)
    return picked
