"""The model's outputs for the pool's photos under the version serving now: which photos have
them kept (``dashboard.output_cache``), a game made from kept outputs at once, and the
background warm-up that puts the rest of the pool through the model while nobody waits.

Once the pool is warm a game needs no service call at all, so a crowd that has taken every
game prepared ahead still starts at once. Workers of one machine claim photos before they
answer them, so that they do not answer the same ones.
"""
from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

from dashboard.catalog import Catalog
from dashboard.clients import NOT_READY, PoolPhoto, Services
from dashboard.game import Game, Round
from dashboard.health import HealthWatcher
from dashboard.output_cache import OutputCache, VersionOutputs
from dashboard.prepare import PhotoOutput, game_of, model_outputs
from dashboard.settings import Settings

log = logging.getLogger(__name__)
CLAIM_SECONDS = 120  # a photo claimed by a worker is left to it this long


class PoolOutputs:
    def __init__(self, cache: OutputCache, services: Services, health: HealthWatcher,
                 catalog: Catalog, settings: Settings, rng: random.Random) -> None:
        self.cache = cache
        self._services, self._health, self._catalog = services, health, catalog
        self._settings, self._rng = settings, rng
        self._kept: dict[str, PoolPhoto] = {}  # pool photos with kept outputs (this version)
        self._kept_version: int | None = None

    def scope(self) -> VersionOutputs | None:
        """The kept outputs of the model version that answers now, for this pool (None before
        both are known). A new version starts with none kept."""
        version = self._health.current.version
        if version != self._kept_version:
            self._kept, self._kept_version = {}, version
        manifest = self._catalog.manifest
        if version is None or manifest is None:
            return None
        return self.cache.of(version, manifest.digest)

    def count(self) -> int:
        """Pool photos this process knows kept outputs for (under the serving version)."""
        return len(self._kept)

    def note(self, rounds: list[Round]) -> None:
        """These rounds' photos now have kept outputs (they were just prepared)."""
        manifest = self._catalog.manifest
        if manifest is not None:
            by_url = {p.url: p for p in manifest.photos}
            self._kept.update((r.source, by_url[r.source]) for r in rounds
                              if r.overlay is not None and r.source in by_url)

    def game(self, draws: Callable[[str], bool]) -> Game | None:
        """A game made at once from kept outputs of the makes it ``draws`` (no service is
        called), or None when too few are kept or one has gone."""
        scope, rounds, manifest = self.scope(), self._settings.rounds, self._catalog.manifest
        kept = [p for p in self._kept.values() if draws(p.answer.make)]
        if scope is None or manifest is None or len(kept) < rounds:
            return None
        outputs = []
        for photo in self._rng.sample(kept, rounds):
            kept = scope.get(photo.url)
            if kept is None:
                self._kept.pop(photo.url, None)
                return None
            outputs.append(PhotoOutput(photo, kept.photo, kept.prediction, kept.overlay))
        return game_of(manifest, outputs, True, self._rng)

    async def warm(self, busy: Callable[[], bool]) -> None:
        """Put the whole pool through the model, a small batch at a time, whenever ``busy``
        says no visitor waits; photos another worker is answering are skipped. Runs again
        for each new model version."""
        s, batch = self._settings, self._settings.warm_batch
        while True:
            await self._health.healthy.wait()
            try:
                manifest = await self._catalog.read()
            except NOT_READY:
                await asyncio.sleep(s.health_interval)
                continue
            scope = self.scope()
            if scope is None or not self._health.current.explainer:
                await asyncio.sleep(s.health_interval)
                continue
            todo = []
            for photo in self._rng.sample(manifest.photos, len(manifest.photos)):
                if scope.has(photo.url):
                    self._kept[photo.url] = photo
                else:
                    todo.append(photo)
            log.info("answers kept", extra={"version": scope.version, "kept": len(self._kept),
                                            "to_answer": len(todo)})
            for start in range(0, len(todo), batch):
                while busy():
                    await asyncio.sleep(0.2)  # visitors first
                if self.scope() != scope:
                    break  # a new model version: start again
                mine = [p for p in todo[start:start + batch] if scope.claim(p.url, CLAIM_SECONDS)]
                if not mine:
                    continue
                try:
                    outputs, _explained = await model_outputs(self._services, mine, len(mine),
                                                              scope)
                except NOT_READY as exc:
                    log.warning("could not answer pool photos", extra={"error": str(exc)})
                    await asyncio.sleep(s.health_interval)
                    continue
                self._kept.update((o.pool_photo.url, o.pool_photo) for o in outputs
                                  if o.overlay is not None)
            else:
                if len(self._kept) >= len(manifest.photos):
                    await self._version_changed(scope.version)
                else:  # photos another worker answered, or that failed: look again later
                    await asyncio.sleep(s.warm_rescan_seconds)

    async def _version_changed(self, version: int) -> None:
        """Wait until another model version answers (the pool is answered for this one)."""
        while self._health.current.version == version:
            await asyncio.sleep(self._settings.health_interval)
