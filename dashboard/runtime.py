"""The dashboard's asynchronous side, one per process: an event loop in a background thread
with one aiohttp session, the manifest, and games prepared ahead of the visitors.

Dash callbacks run in the web server's threads and hand coroutines to this loop; while a
visitor plays, the loop keeps ``ready_games`` games prepared, so "Let's play" starts at once.
"""
from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections import deque

import aiohttp

from dashboard.clients import ExplainerClient, ImageServerClient, Manifest, ServiceError
from dashboard.game import Car, Game
from dashboard.prepare import Services, prepare_game
from dashboard.settings import Settings
from dashboard.store import MemoryStore
from model.client import ModelClient, ModelError

log = logging.getLogger(__name__)
NOT_READY = (ModelError, ServiceError, TimeoutError)


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = MemoryStore(settings.game_ttl, 20_000)  # replaced by open_store(settings)
        self._rng = random.Random()
        self._ready: deque[Game] = deque()
        self._manifest: Manifest | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="dashboard-io",
                                        daemon=True)
        self._thread.start()
        self._call(self._open())

    def _call(self, coro, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _open(self) -> None:
        s = self.settings
        self._session = aiohttp.ClientSession()
        self.services = Services(
            ImageServerClient(self._session, s.image_server_url, s.request_timeout),
            ModelClient(self._session, s.model_url, timeout=s.request_timeout),
            ExplainerClient(self._session, s.explainer_url, s.request_timeout),
        )
        self._wanted = asyncio.Event()
        self._filler = asyncio.create_task(self._keep_ready())

    async def _manifest_once(self) -> Manifest:
        if self._manifest is None:
            self._manifest = await self.services.images.manifest()
        return self._manifest

    async def _prepare(self) -> Game:
        manifest = await self._manifest_once()
        return await prepare_game(self.services, manifest, self.settings.rounds, self._rng)

    async def _keep_ready(self) -> None:
        """Top up the ready games; when a service is down, retry with a growing pause."""
        pause = 1.0
        while True:
            if len(self._ready) >= self.settings.ready_games:
                self._wanted.clear()
                await self._wanted.wait()
                continue
            try:
                self._ready.append(await self._prepare())
                pause = 1.0
            except NOT_READY as exc:
                log.warning("could not prepare a game", extra={"error": str(exc), "retry_s": pause})
                await asyncio.sleep(pause)
                pause = min(pause * 2, 15.0)

    async def _take(self) -> Game:
        self._wanted.set()
        if self._ready:
            return self._ready.popleft()
        return await self._prepare()  # cold: nothing prepared ahead (yet)

    # --- called from Dash callbacks (web server threads) ---

    def new_game(self, session_id: str) -> Game:
        """Give the session a fresh game. Raises one of ``NOT_READY``."""
        game = self._call(self._take(), timeout=3 * self.settings.request_timeout)
        self.store.put(session_id, game)
        return game

    def ready(self) -> bool:
        """Can a game start now? (A prepared game is waiting, or the AI and photos answer.)"""
        if self._ready:
            return True

        async def check() -> bool:
            await self._manifest_once()
            return await self.services.model.ready()

        try:
            return self._call(check(), timeout=self.settings.request_timeout)
        except NOT_READY:
            return False

    def cars(self) -> list[Car]:
        """Every car a visitor can guess (the model's classes, from the manifest)."""
        return self._call(self._manifest_once(), timeout=self.settings.request_timeout).cars

    def ready_games(self) -> int:
        return len(self._ready)

    def close(self) -> None:
        async def shut() -> None:
            self._filler.cancel()
            await self._session.close()

        self._call(shut(), timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
