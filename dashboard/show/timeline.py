"""A crowd show's rules and clock: plain values and pure functions, no I/O.

A show is one JSON record (``Show``) and a clock: from the moment it starts, each round is
``answer_s`` seconds of question and ``reveal_s`` of reveal, then the final table. Every
worker and every phone works out the phase from the record and the time alone (``phase_at``),
so nobody has to "advance" the show, and a worker that restarts mid-round knows where it is.
Only two things move the clock: the show starts (the screen's button, or the lobby's time is up
with someone in it), and a round ends early once everyone who plays it has answered.
"""
from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from dashboard.game import CHOICES, Game

LOBBY, QUESTION, REVEAL, FINAL, OVER, EMPTY = (
    "lobby", "question", "reveal", "final", "over", "empty")
FINAL_SECONDS = 60  # the final table stays this long, then the screen goes back to attract
# Room codes: consonants only (no word can be spelled, rude or not), none that look alike.
CODE_LETTERS = "BCDFGHJKLMNPQRSTVWXZ"
CODE_LENGTH = 4
FAST_POINTS, RIGHT_POINTS = 500, 500  # a right answer: 500, plus up to 500 for speed
NAME_LIMIT = 12


def new_code() -> str:
    return "".join(secrets.choice(CODE_LETTERS) for _ in range(CODE_LENGTH))


@dataclass(frozen=True)
class Choice:
    name: str  # the class name, as the model names it
    make: str

    @property
    def class_name(self) -> str:
        """As a game's ``Car`` names it: the game's scoring (``dashboard.game.points``)."""
        return self.name


@dataclass(frozen=True)
class ShowRound:
    """What phones and the screen need of a round, without its photos (they stay in the
    game store, for the screen only)."""
    choices: list[Choice]
    answer: int  # the right choice's index
    ai: list[tuple[Choice, float]]  # the AI's top 5, best first
    photo: str  # the pool photo's file name (the statistics)

    @property
    def right(self) -> Choice:
        return self.choices[self.answer]


@dataclass
class Show:
    code: str
    game: str  # the game store's key of the rounds' photos (the screen's)
    created: float
    lobby_until: float
    answer_s: float
    reveal_s: float
    rounds: list[ShowRound]
    language: str = "en"
    started: float | None = None
    ended: float | None = None  # the screen ended it before its end
    joins: list[int] = field(default_factory=list)  # phones that play from round i on
    early: dict[str, float] = field(default_factory=dict)  # round → when all had answered
    recorded: bool = False  # in the statistics

    # --- the record ---

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Show:
        rounds = [ShowRound(
            choices=[Choice(**c) for c in r["choices"]], answer=r["answer"],
            ai=[(Choice(**c), p) for c, p in r["ai"]], photo=r["photo"],
        ) for r in data["rounds"]]
        return cls(**{**data, "rounds": rounds})

    @classmethod
    def of_game(cls, code: str, key: str, game: Game, now: float, lobby_s: float,
                answer_s: float, reveal_s: float, language: str) -> Show:
        rounds = []
        for played in game.rounds:
            choices = [Choice(c.class_name, c.make) for c in played.choices[:CHOICES]]
            answer = next(i for i, c in enumerate(choices) if c.name == played.answer.class_name)
            rounds.append(ShowRound(
                choices=choices, answer=answer, photo=played.source.rsplit("/", 1)[-1],
                ai=[(Choice(car.class_name, car.make), float(p)) for car, p in played.ai_top]))
        return cls(code=code, game=key, created=now, lobby_until=now + lobby_s,
                   answer_s=answer_s, reveal_s=reveal_s, rounds=rounds, language=language,
                   joins=[0] * len(rounds))

    # --- who plays ---

    @property
    def players(self) -> int:
        return sum(self.joins)

    def playing(self, round_index: int) -> int:
        """Phones that play round ``round_index`` (those who joined later wait for theirs)."""
        return sum(self.joins[: round_index + 1])

    def first_round_for_joiner(self, now: float) -> int | None:
        """The first round a phone joining now plays: the next one to start; None when the
        show has no round left to join."""
        phase = phase_at(self, now)
        if phase.kind == LOBBY:
            return 0
        if phase.kind in (QUESTION, REVEAL) and phase.round + 1 < len(self.rounds):
            return phase.round + 1
        return None

    def start_time(self) -> float | None:
        """When round 1 starts: the screen's start, or the lobby's end if someone joined."""
        if self.started is not None:
            return self.started
        return self.lobby_until if self.players else None

    def question_end(self, round_index: int, starts: float) -> float:
        end = starts + self.answer_s
        early = self.early.get(str(round_index))
        return min(end, max(starts, early)) if early is not None else end

    def points_for(self, right: bool, round_starts: float, at: float) -> int:
        """A right answer scores more the faster it came; a wrong one nothing."""
        if not right:
            return 0
        left = max(0.0, min(1.0, 1 - (at - round_starts) / self.answer_s))
        return FAST_POINTS + round(RIGHT_POINTS * left)


@dataclass(frozen=True)
class Phase:
    kind: str  # LOBBY, QUESTION, REVEAL, FINAL, OVER or EMPTY (nobody joined)
    round: int  # the round on screen (0-based); the number of rounds in the final
    starts: float
    ends: float

    @property
    def key(self) -> str:
        """Changes exactly when the screen must show something else."""
        return f"{self.kind}:{self.round}"


def phase_at(show: Show, now: float) -> Phase:
    n = len(show.rounds)
    if show.ended is not None:
        return Phase(OVER, n, show.ended, show.ended)
    t = show.start_time()
    if t is None:
        if now < show.lobby_until:
            return Phase(LOBBY, 0, show.created, show.lobby_until)
        return Phase(EMPTY, 0, show.lobby_until, show.lobby_until)
    if now < t:
        return Phase(LOBBY, 0, show.created, t)
    for i in range(n):
        q_end = show.question_end(i, t)
        if now < q_end:
            return Phase(QUESTION, i, t, q_end)
        r_end = q_end + show.reveal_s
        if now < r_end:
            return Phase(REVEAL, i, q_end, r_end)
        t = r_end
    if now < t + FINAL_SECONDS:
        return Phase(FINAL, n, t, t + FINAL_SECONDS)
    return Phase(OVER, n, t + FINAL_SECONDS, t + FINAL_SECONDS)


def round_start(show: Show, round_index: int) -> float | None:
    """When round ``round_index``'s question showed (None before the show starts)."""
    t = show.start_time()
    if t is None:
        return None
    for i in range(round_index):
        t = show.question_end(i, t) + show.reveal_s
    return t


def majority(votes: list[int]) -> int | None:
    """The crowd's answer: the choice most phones took (the first of a tie); None: no votes."""
    if not any(votes):
        return None
    return max(range(len(votes)), key=lambda i: (votes[i], -i))


def rounds_played(show: Show, now: float) -> int:
    """Rounds whose answer was revealed, by ``now`` or by when the screen ended the show."""
    phase = phase_at(replace(show, ended=None), show.ended if show.ended is not None else now)
    if phase.kind in (FINAL, OVER):
        return len(show.rounds)
    if phase.kind == REVEAL:
        return phase.round + 1
    return phase.round if phase.kind == QUESTION else 0
