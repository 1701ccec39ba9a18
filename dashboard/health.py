"""The back-ends and the game store as the last checks saw them: checked every
``health_interval`` on the loop, read from memory by the pages and ``/health``, so a hung
back-end never slows a visitor or the stand's watchdog."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from dashboard.clients import Services
from dashboard.loop import Loop
from dashboard.settings import Settings
from dashboard.store import GameStore, StoreBusy

log = logging.getLogger(__name__)
SERVICES = ("model", "images", "explainer")  # the back-ends, as the home page names them


@dataclass(frozen=True)
class Health:
    """The back-ends as the last checks saw them (True: answering)."""

    model: bool = False
    images: bool = False
    explainer: bool = False
    version: int | None = None  # the model version that answers
    store: bool = True  # the game store answers

    @property
    def can_prepare(self) -> bool:
        """A game needs photos and the AI; the explainer is optional."""
        return self.model and self.images

    def missing(self) -> list[str]:
        return [name for name in SERVICES if not getattr(self, name)]


class HealthWatcher:
    def __init__(self, loop: Loop, services: Services, store: GameStore,
                 settings: Settings) -> None:
        self._loop, self._services, self._store = loop, services, store
        self._interval, self._timeout = settings.health_interval, settings.health_timeout
        self.current = Health()
        self._checked = False  # no check has finished yet
        self.healthy = asyncio.Event()  # set while a game can be prepared (used on the loop)
        self._explainer_back: list[Callable[[], None]] = []

    def start(self) -> None:
        self._loop.spawn(self._watch())

    def when_explainer_returns(self, react: Callable[[], None]) -> None:
        """Call ``react`` (on the loop) each time the explainer answers again after a gap."""
        self._explainer_back.append(react)

    def checked(self) -> bool:
        """Has the first check finished? (Before it, nothing is known to be down.)"""
        return self._checked

    async def _check(self) -> Health:
        s, timeout = self._services, self._timeout

        async def model() -> int | None:
            try:
                async with asyncio.timeout(timeout):
                    return await s.model.version()
            except TimeoutError:
                return None

        async def store() -> bool:
            try:
                await asyncio.to_thread(self._store.get, "health-check")
            except StoreBusy:
                return False
            return True

        version, images_up, explainer_up, store_up = await asyncio.gather(
            model(), s.images.alive(timeout), s.explainer.alive(timeout), store())
        return Health(version is not None, images_up, explainer_up, version, store_up)

    async def _watch(self) -> None:
        while True:
            try:
                health = await self._check()
            except RuntimeError:  # the interpreter is shutting down: no thread takes work now
                return
            if health != self.current or not self._checked:
                log.info("back-ends", extra={"up": [n for n in SERVICES if getattr(health, n)],
                                             "down": health.missing(),
                                             "store": health.store})
            explainer_back = health.explainer and not self.current.explainer
            self.current, self._checked = health, True
            if health.can_prepare:
                self.healthy.set()
            else:
                self.healthy.clear()
            if explainer_back:  # on the way back only: never a loop of re-preparations
                for react in self._explainer_back:
                    react()
            await asyncio.sleep(self._interval)
