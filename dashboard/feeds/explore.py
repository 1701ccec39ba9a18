"""/explore's feed: batches of pool photos with the AI's answers, prepared on the loop with
the game's own batched calls and kept per visitor in the game store, so any worker can show a
batch and no web request waits on the model."""
from __future__ import annotations

import asyncio
import logging
import random
import secrets

from dashboard.catalog import Catalog
from dashboard.clients import NOT_READY, Services
from dashboard.game import Game
from dashboard.loop import Loop
from dashboard.pool_outputs import PoolOutputs
from dashboard.prepare import prepare_rounds
from dashboard.settings import Settings
from dashboard.store import GameStore

log = logging.getLogger(__name__)
EXPLORE_KEY = "explore-"  # + session id: the store's key for the session's batch


class ExploreFeed:
    def __init__(self, loop: Loop, services: Services, catalog: Catalog, outputs: PoolOutputs,
                 store: GameStore, settings: Settings, rng: random.Random) -> None:
        self._loop, self._services, self._catalog = loop, services, catalog
        self._outputs, self._store, self._rng = outputs, store, rng
        self._exploring: dict[str, asyncio.Task] = {}  # the batch being made, per session
        # At most prepare_concurrency batches at once, beside the games: a crowd of
        # explorers queues here instead of flooding the model.
        self._slots = asyncio.Semaphore(settings.prepare_concurrency)

    def makes(self) -> list[str] | None:
        """The make filter's choices (None if the manifest cannot be had in time)."""
        return self._catalog.makes()

    def explore(self, session_id: str, make: str | None, size: int) -> str:
        """Start preparing a batch of ``size`` pool photos (of ``make`` only, if given) for
        the session and return its id at once; the page polls ``explored`` for it. A batch
        the session asked for before in this process is given up."""
        batch_id = secrets.token_hex(8)  # a Game id: guard.is_game_id
        self._loop.soon(self._start, session_id, make, size, batch_id)
        return batch_id

    def explored(self, session_id: str) -> Game | None:
        """The session's latest batch to be ready (its rounds are the photos), if any."""
        return self._store.get(EXPLORE_KEY + session_id)

    def _start(self, session_id: str, make: str | None, size: int, batch_id: str) -> None:
        if (before := self._exploring.pop(session_id, None)) is not None:
            before.cancel()
        task = self._loop.keep(asyncio.create_task(self._make(session_id, make, size,
                                                              batch_id)))
        self._exploring[session_id] = task
        task.add_done_callback(lambda done: self._exploring.pop(session_id, None)
                               if self._exploring.get(session_id) is done else None)

    async def _make(self, session_id: str, make: str | None, size: int, batch_id: str) -> None:
        async with self._slots:
            try:
                manifest = await self._catalog.read()
                photos = [p for p in manifest.photos if make is None or p.answer.make == make]
                batch = await prepare_rounds(self._services, manifest,
                                             self._rng.sample(photos, len(photos)),
                                             min(size, len(photos)), self._rng,
                                             self._outputs.scope())
            except NOT_READY as exc:
                log.warning("could not prepare a batch to explore", extra={"error": str(exc)})
                return
        batch.id = batch_id
        await asyncio.to_thread(self._store.put, EXPLORE_KEY + session_id, batch)
