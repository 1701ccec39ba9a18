"""Crowd shows as the pages use them: start one on the big screen, join from a phone, answer,
count, rank, and record the show in the statistics once it ends.

Web threads call this directly: it reads and writes only the show board and the game store
(both bounded in time), never a back-end service; the rounds come ready-made from the game
pool, like a visitor's game.
"""
from __future__ import annotations

import enum
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from dashboard import metrics
from dashboard.event.config import EventConfig
from dashboard.game import EASY, Game
from dashboard.game_pool import GamePool
from dashboard.scoreboard import Scoreboard
from dashboard.settings import Settings
from dashboard.show.board import ShowBoard
from dashboard.show.names import checked_name
from dashboard.show.timeline import (
    CHOICES,
    EMPTY,
    FINAL,
    LOBBY,
    OVER,
    QUESTION,
    Show,
    new_code,
    phase_at,
    rounds_played,
)
from dashboard.stats.records import ShowAnswerRecord, ShowRecord, ShowRoundRecord
from dashboard.store import GameStore

log = logging.getLogger(__name__)
GAME_PREFIX = "show-"  # the game store's key of a show's photos: + its code


class Answered(enum.Enum):
    COUNTED = "counted"
    ALREADY = "already"  # this phone answered this round before
    CLOSED = "closed"  # not this round's question time (too late, or not yet)
    WAITING = "waiting"  # joined during the show: plays from the next round
    UNKNOWN = "unknown"  # no such show, or this phone never joined it


@dataclass(frozen=True)
class Player:
    id: str  # a secret the phone keeps (local storage): it comes back with it
    number: int  # 1, 2, …: in the order they joined ("Player 7" when anonymous)
    name: str | None
    first: int  # the first round it plays


@dataclass(frozen=True)
class Standing:
    number: int
    name: str | None
    points: int


class ShowClosed(Exception):
    """A phone cannot join: no such show, it has ended, or it is full."""


class Shows:
    def __init__(self, board: ShowBoard, store: GameStore, games: GamePool,
                 scoreboard: Scoreboard, event: EventConfig, settings: Settings) -> None:
        self.board, self.store, self.games = board, store, games
        self.scoreboard, self.event, self.settings = scoreboard, event, settings

    # --- the big screen ---

    def for_screen(self, screen: str, language: str, now: float | None = None) -> Show | None:
        """The screen's show: the one it runs, or a new one (None while no game is ready)."""
        now = time.time() if now is None else now
        code = self.board.get(f"screen:{screen}")
        show = self.get(code) if isinstance(code, str) else None
        if show is not None and phase_at(show, now).kind not in (OVER, EMPTY):
            return show
        return self._new(screen, language, now)

    def _new(self, screen: str, language: str, now: float) -> Show | None:
        for _ in range(20):  # a free code; 160,000 of them
            code = new_code()
            if self.board.add(f"code:{code}", screen):
                break
        else:
            raise RuntimeError("no free show code")
        key = GAME_PREFIX + code
        game = self.games.take_game(key, EASY)
        if game is None:
            self.board.set(f"code:{code}", None)
            return None
        s = self.settings
        show = Show.of_game(code, key, game, now, s.show_lobby_seconds, s.show_answer_seconds,
                            s.show_reveal_seconds, language)
        self.board.set(f"show:{code}", show.to_json())
        self.board.set(f"screen:{screen}", code)
        metrics.shows.labels("started").inc()
        log.info("show opened", extra={"code": code})
        return show

    def get(self, code: object) -> Show | None:
        if not isinstance(code, str) or len(code) > 8 or not code.isalpha():
            return None
        data = self.board.get(f"show:{code.upper()}")
        return Show.from_json(data) if isinstance(data, dict) else None

    def photos(self, show: Show) -> Game | None:
        """The rounds' photos and where the AI looked (the screen shows them)."""
        return self.store.get(show.game)

    def _change(self, code: str, change) -> Show | None:  # noqa: ANN001 (Show → None)
        def apply(data: object) -> object:
            if not isinstance(data, dict):
                return data
            show = Show.from_json(data)
            change(show)
            return show.to_json()
        data = self.board.update(f"show:{code}", apply)
        return Show.from_json(data) if isinstance(data, dict) else None

    def start(self, code: str, now: float | None = None) -> None:
        """The screen's "Start": round 1 now, if someone has joined and it has not started."""
        now = time.time() if now is None else now

        def start(show: Show) -> None:
            if show.started is None and show.players and phase_at(show, now).kind == LOBBY:
                show.started = now
        self._change(code, start)

    def end(self, code: str, now: float | None = None) -> None:
        """The screen leaves the show before its end: recorded as it stands."""
        now = time.time() if now is None else now

        def end(show: Show) -> None:
            if phase_at(show, now).kind not in (OVER, EMPTY):
                show.ended = now
        show = self._change(code, end)
        if show is not None:
            self.record(show, now)

    # --- phones ---

    def join(self, code: str, player_id: str | None, name: str | None,
             now: float | None = None) -> Player:
        """The phone's place in the show: the one it had (it dropped and came back: its
        points are kept), or a new one. Raises ``names.NameRefused`` or ``ShowClosed``."""
        now = time.time() if now is None else now
        show = self.get(code)
        if show is None:
            raise ShowClosed("no such show")
        if player_id:
            known = self.player(show.code, player_id)
            if known is not None:
                return known
        nickname = checked_name(name, self.event.blocklist) if name and name.strip() else None
        joined: dict[str, int] = {}

        def seat(show: Show) -> None:
            first = show.first_round_for_joiner(now)
            if first is None or show.players >= self.settings.show_max_phones:
                return
            show.joins[first] += 1
            joined.update(first=first, number=show.players)
        self._change(show.code, seat)
        if not joined:
            raise ShowClosed("the show has ended or is full")
        player = Player(secrets.token_urlsafe(12), joined["number"], nickname, joined["first"])
        self.board.set(f"player:{show.code}:{player.id}", {
            "number": player.number, "name": player.name, "first": player.first})
        self.board.update(f"players:{show.code}", lambda ids: [*(ids or []), player.id])
        metrics.show_phones.inc()
        return player

    def player(self, code: str, player_id: str) -> Player | None:
        if not isinstance(player_id, str) or not 8 <= len(player_id) <= 32:
            return None
        data = self.board.get(f"player:{code}:{player_id}")
        return Player(player_id, data["number"], data["name"], data["first"]) \
            if isinstance(data, dict) else None

    def answer(self, code: str, player_id: str, round_index: int, choice: int,
               now: float | None = None) -> Answered:
        """Count the phone's answer to the round on screen, once, while its time runs."""
        now = time.time() if now is None else now
        show = self.get(code)
        player = self.player(code, player_id) if show is not None else None
        if show is None or player is None:
            return Answered.UNKNOWN
        phase = phase_at(show, now)
        if phase.kind != QUESTION or phase.round != round_index or not 0 <= choice < CHOICES:
            return Answered.CLOSED
        if player.first > round_index:
            return Answered.WAITING
        right = choice == show.rounds[round_index].answer
        points = show.points_for(right, phase.starts, now)
        mine = {"choice": choice, "points": points, "seconds": round(now - phase.starts, 3)}
        if not self.board.add(f"answer:{code}:{round_index}:{player_id}", mine):
            return Answered.ALREADY
        self.board.incr(f"votes:{code}:{round_index}:{choice}")
        if points:
            self.board.incr(f"points:{code}:{player_id}", points)
        answered = self.board.incr(f"answered:{code}:{round_index}")
        metrics.show_answers.inc()
        if answered >= show.playing(round_index):  # all in: the reveal comes now

            def close(show: Show) -> None:
                show.early.setdefault(str(round_index), now)
            self._change(code, close)
        return Answered.COUNTED

    def mine(self, code: str, player_id: str, round_index: int) -> dict | None:
        """The phone's answer to a round: its choice, points and seconds."""
        return self.board.get(f"answer:{code}:{round_index}:{player_id}")

    def points(self, code: str, player_id: str) -> int:
        return self.board.get(f"points:{code}:{player_id}") or 0

    # --- counts ---

    def answered(self, code: str, round_index: int) -> int:
        return self.board.get(f"answered:{code}:{round_index}") or 0

    def votes(self, code: str, round_index: int) -> list[int]:
        return [v or 0 for v in self.board.get_many(
            f"votes:{code}:{round_index}:{n}" for n in range(CHOICES))]

    def standings(self, code: str) -> list[Standing]:
        """Every phone, most points first (the earlier joiner first on a tie)."""
        ids = self.board.get(f"players:{code}") or []
        players = self.board.get_many(f"player:{code}:{i}" for i in ids)
        points = self.board.get_many(f"points:{code}:{i}" for i in ids)
        table = [Standing(p["number"], p["name"], n or 0)
                 for p, n in zip(players, points, strict=True) if isinstance(p, dict)]
        return sorted(table, key=lambda s: (-s.points, s.number))

    # --- the statistics ---

    def record(self, show: Show, now: float | None = None) -> bool:
        """Put the show in the statistics once it is over (the final, an early end, or a
        lobby nobody joined): the first worker to see it there does; True if this call did."""
        now = time.time() if now is None else now
        phase = phase_at(show, now)
        if phase.kind not in (FINAL, OVER, EMPTY) or show.recorded:
            return False
        if not self.board.add(f"recorded:{show.code}", True):
            return False
        self._change(show.code, lambda s: setattr(s, "recorded", True))
        record = self.record_of(show, now)
        self.scoreboard.show_ended(record)
        metrics.shows.labels(record.status).inc()
        return True

    def record_of(self, show: Show, now: float) -> ShowRecord:
        ids = self.board.get(f"players:{show.code}") or []
        numbers = {i: (p or {}).get("number", 0) for i, p in zip(
            ids, self.board.get_many(f"player:{show.code}:{i}" for i in ids), strict=True)}
        rounds, answers = [], []
        for i in range(rounds_played(show, now)):
            this = show.rounds[i]
            mine = self.board.get_many(f"answer:{show.code}:{i}:{p}" for p in ids)
            for player_id, answer in zip(ids, mine, strict=True):
                if isinstance(answer, dict):
                    answers.append(ShowAnswerRecord(
                        round=i, player=numbers[player_id],
                        choice=this.choices[answer["choice"]].name,
                        right=answer["choice"] == this.answer, points=answer["points"],
                        seconds=answer["seconds"]))
            rounds.append(ShowRoundRecord.of(this, self.votes(show.code, i)))
        status = "empty" if not show.players else "ended" if show.ended else "finished"
        return ShowRecord(
            id=f"{show.code}-{int(show.created)}", status=status, language=show.language,
            started_at=datetime.fromtimestamp(show.created, UTC),
            ended_at=datetime.fromtimestamp(max(now, show.created), UTC),
            players=show.players, rounds=tuple(rounds), answers=tuple(answers))
