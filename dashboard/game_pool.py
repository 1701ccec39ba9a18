"""Games prepared ahead of the visitors, so that a mode button starts a game at once.

As many games are kept ready as were taken in the last ``demand_window`` seconds, between
``ready_games`` and ``ready_games_max``; at most ``prepare_concurrency`` are prepared at a
time, on the loop. When a crowd has taken every game ready, one is made on the spot from the
model's kept outputs (``PoolOutputs``). The attract screen's reel is prepared here too.

Games and the reel draw only the makes the event allows (``Event.draws``); when the owner
changes them, what was prepared for other makes is dropped and made again.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque

from dashboard import metrics
from dashboard.catalog import Catalog
from dashboard.clients import NOT_READY, Services
from dashboard.event.config import EventConfig
from dashboard.event.settings import Event
from dashboard.game import Game, Round
from dashboard.health import HealthWatcher
from dashboard.loop import Loop
from dashboard.pool_outputs import PoolOutputs
from dashboard.prepare import prepare_rounds
from dashboard.settings import Settings
from dashboard.store import GameStore

log = logging.getLogger(__name__)


class GamePool:
    def __init__(self, loop: Loop, services: Services, health: HealthWatcher,
                 catalog: Catalog, outputs: PoolOutputs, store: GameStore, event: EventConfig,
                 settings: Settings, rng: random.Random) -> None:
        self._loop, self._services, self._health = loop, services, health
        self._catalog, self._outputs, self._store = catalog, outputs, store
        self._event = event
        self._settings, self._rng = settings, rng
        self._ready: deque[Game] = deque()
        self._preparing = 0
        self._reel: Game | None = None  # the attract screen's showcase
        self._reel_made = 0.0
        self._taken: deque[float] = deque()  # when games were taken: the recent demand
        self._wanted = asyncio.Event()  # used on the loop

    def start(self) -> None:
        """The preparing workers, and the warm-up of the pool's outputs, on the loop."""
        self._health.when_explainer_returns(self._drop_unexplained)
        self._event.when_changed(self._event_changed)
        for _ in range(self._settings.prepare_concurrency):
            self._loop.spawn(self._keep_ready())
        if self._settings.warm_answers:
            self._loop.spawn(self._outputs.warm(self.busy))

    # --- for web threads: quick, never on a service ---

    def take_game(self, session_id: str, mode: str) -> Game | None:
        """Give the session a game prepared ahead, to play in ``mode``, or None while one is
        being prepared, or the loop is too busy to hand one over within the render budget
        (the page shows "preparing your game…" and asks again)."""
        try:
            game = self._loop.run(self._take(), timeout=self._settings.render_budget)
        except TimeoutError:
            log.warning("no game handed over within the render budget")
            return None
        if game is not None:
            game.begin(mode)
            self._store.put(session_id, game)
            metrics.game_started(game.mode)
        return game

    def can_start(self) -> bool:
        """Can a game start now? (One is ready, or photos and the AI answer.)"""
        return bool(self._ready) or self._health.current.can_prepare

    def ready_count(self) -> int:
        return len(self._ready)

    def showcase(self) -> list[Round]:
        """Rounds for the attract screen: photos with the AI's guess and where it looked, of
        the makes the event draws."""
        event = self._event.current
        return [r for r in self._reel.rounds if event.draws(r.answer.make)] if self._reel else []

    def busy(self) -> bool:
        """Does a visitor wait, or are fewer games ready than wanted? (The warm-up waits.)"""
        return bool(self._preparing) or len(self._ready) < self._wanted_ready()

    # --- on the loop ---

    def _drop_unexplained(self) -> None:
        """Games prepared while the explainer was down are made again now that it is back."""
        stale = [g for g in self._ready if not g.explained]
        if stale:
            self._ready = deque(g for g in self._ready if g.explained)
            log.info("refreshing games prepared without explanations",
                     extra={"games": len(stale)})
            self._wanted.set()
        if self._reel is not None and not self._reel.explained:
            self._reel_made = 0.0

    def _event_changed(self, old: Event, new: Event) -> None:
        if old.makes != new.makes:
            self._loop.soon(self._drop_other_makes)

    def _drop_other_makes(self) -> None:
        """The owner changed the makes: games and the reel of others are made again."""
        event = self._event.current
        kept = deque(g for g in self._ready if _draws(event, g))
        log.info("makes changed: dropping games of other makes",
                 extra={"games": len(self._ready) - len(kept)})
        self._ready = kept
        if self._reel is not None and not _draws(event, self._reel):
            self._reel_made = 0.0
        self._wanted.set()

    def _wanted_ready(self) -> int:
        """Games to keep ready: the games taken in the last ``demand_window`` seconds, between
        ``ready_games`` and ``ready_games_max`` (a crowd finds games waiting)."""
        s, now = self._settings, time.monotonic()
        while self._taken and now - self._taken[0] > s.demand_window:
            self._taken.popleft()
        return max(s.ready_games, min(s.ready_games_max, len(self._taken)))

    def _reel_due(self) -> bool:
        return (self._reel is None
                or time.monotonic() - self._reel_made > self._settings.reel_refresh_seconds)

    async def _prepare(self) -> Game:
        manifest = await self._catalog.read()
        event = self._event.current
        photos = [p for p in manifest.photos if event.draws(p.answer.make)]
        game = await prepare_rounds(self._services, manifest,
                                    self._rng.sample(photos, len(photos)),
                                    self._settings.rounds, self._rng, self._outputs.scope())
        self._outputs.note(game.rounds)
        return game

    async def _keep_ready(self) -> None:
        """One of ``prepare_concurrency`` workers: top up the ready games (and the attract
        reel); while a needed back-end is down, wait for it; on failures, back off."""
        pause = 1.0
        while True:
            await self._health.healthy.wait()
            wanted = self._wanted_ready()
            reel = len(self._ready) + self._preparing >= wanted and self._reel_due()
            if len(self._ready) + self._preparing >= wanted and not reel:
                self._wanted.clear()
                await self._wanted.wait()
                continue
            self._preparing += 1
            if reel:
                self._reel_made = time.monotonic()  # one worker makes it
            try:
                game = await self._prepare()
            except NOT_READY as exc:
                log.warning("could not prepare a game", extra={"error": str(exc), "retry_s": pause})
                if reel:
                    self._reel_made = 0.0
                await asyncio.sleep(pause)
                pause = min(pause * 2, 15.0)
                continue
            finally:
                self._preparing -= 1
            pause = 1.0
            if reel:
                self._reel = game
            else:
                self._ready.append(game)

    async def _take(self) -> Game | None:
        self._taken.append(time.monotonic())
        self._wanted.set()
        event = self._event.current
        while self._ready:
            game = self._ready.popleft()
            if _draws(event, game):  # else prepared just before the makes changed
                return game
        return self._outputs.game(event.draws)


def _draws(event: Event, game: Game) -> bool:
    """Are all the game's photos of makes the event draws?"""
    return all(event.draws(r.answer.make) for r in game.rounds)
