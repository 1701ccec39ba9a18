"""The dashboard's asynchronous side, one per process: an event loop in a background thread
with one aiohttp session, the back-ends' health, and games prepared ahead of the visitors.

Bursts: the model's answers for pool photos are kept by model version (``dashboard.answers``,
shared by the machine's workers) and the pool is answered in the background while nobody
waits, so once it is warm a game is made from kept answers in milliseconds, even when a crowd
has taken every game prepared ahead. How many games are kept ready follows the recent demand,
between ``ready_games`` and ``ready_games_max``.

Dash callbacks run in the web server's threads and never wait on a service: they take a game
that is ready, read the last health check, or wait at most ``render_budget`` for something
quick (the manifest) and cancel it when that runs out. All the calls to the services come from
this loop, a bounded number at a time: the health checks (one per service per interval) and at
most ``prepare_concurrency`` game preparations. A hung service therefore costs its own calls
their timeout, never a web thread, another visitor or ``/health``.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

from dashboard.answers import Versioned, open_answers
from dashboard.clients import (
    ExplainerClient,
    ImageServerClient,
    Manifest,
    ModelCard,
    PoolPhoto,
    ServiceError,
)
from dashboard.game import Car, Game, Round
from dashboard.prepare import Answered, Services, answer, game_of, prepare_game, prepare_rounds
from dashboard.settings import Settings
from dashboard.store import GameStore, StoreBusy, open_store
from model.client import GradCam, ModelClient, ModelError

log = logging.getLogger(__name__)
T = TypeVar("T")
NOT_READY = (ModelError, ServiceError, TimeoutError)
SERVICES = ("model", "images", "explainer")  # the back-ends, as the home page names them
EXPLORE_KEY = "explore-"  # + session id: the store's key for the session's explorer batch


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


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store: GameStore = open_store(settings)
        self._rng = random.Random()
        self._ready: deque[Game] = deque()
        self._preparing = 0
        self._reel: Game | None = None  # the attract screen's showcase
        self._reel_made = 0.0
        self._manifest: Manifest | None = None
        self.health = Health()
        self._checked = False  # no health check has finished yet
        self._exploring: dict[str, asyncio.Task] = {}  # the explorer's batches, per session
        self._model_card: ModelCard | None = None  # /model: read once per process
        self.answers = open_answers(settings)
        self._kept: dict[str, PoolPhoto] = {}  # pool photos with a kept answer (this version)
        self._kept_version: int | None = None
        self._taken: deque[float] = deque()  # when games were taken: the recent demand
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="dashboard-io",
                                        daemon=True)
        self._thread.start()
        self._call(self._open(), timeout=5)

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the loop, waiting at most ``timeout``; on timeout it is cancelled
        (a request that gives up leaves no work behind) and TimeoutError raised."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"gave up after {timeout:g} s") from None

    async def _open(self) -> None:
        s = self.settings
        self._session = aiohttp.ClientSession()
        self.services = Services(
            ImageServerClient(self._session, s.image_server_url, s.request_timeout),
            ModelClient(self._session, s.model_url, timeout=s.request_timeout),
            ExplainerClient(self._session, s.explainer_url, s.request_timeout),
        )
        self._wanted = asyncio.Event()
        self._healthy = asyncio.Event()  # set while a game can be prepared
        self._tasks = [asyncio.create_task(self._watch_health())]
        if s.warm_answers:
            self._tasks.append(asyncio.create_task(self._warm_answers()))
        self._tasks += [asyncio.create_task(self._keep_ready())
                        for _ in range(s.prepare_concurrency)]
        self._explore_slots = asyncio.Semaphore(s.prepare_concurrency)

    # --- the loop's own work ---

    async def _check(self) -> Health:
        s, timeout = self.services, self.settings.health_timeout

        async def model() -> int | None:
            try:
                async with asyncio.timeout(timeout):
                    return await s.model.version()
            except TimeoutError:
                return None

        async def store() -> bool:
            try:
                await asyncio.to_thread(self.store.get, "health-check")
            except StoreBusy:
                return False
            return True

        version, images_up, explainer_up, store_up = await asyncio.gather(
            model(), s.images.alive(timeout), s.explainer.alive(timeout), store())
        return Health(version is not None, images_up, explainer_up, version, store_up)

    async def _watch_health(self) -> None:
        """Check the back-ends every ``health_interval``; act on changes."""
        while True:
            health = await self._check()
            if health != self.health or not self._checked:
                log.info("back-ends", extra={"up": [n for n in SERVICES if getattr(health, n)],
                                             "down": health.missing(),
                                             "store": health.store})
            explainer_back = health.explainer and not self.health.explainer
            self.health, self._checked = health, True
            if health.can_prepare:
                self._healthy.set()
            else:
                self._healthy.clear()
            if explainer_back:  # on the way back only: never a loop of re-preparations
                self._drop_unexplained()
            await asyncio.sleep(self.settings.health_interval)

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

    async def _manifest_once(self) -> Manifest:
        if self._manifest is None:
            self._manifest = await self.services.images.manifest()
        return self._manifest

    def _known(self) -> Versioned | None:
        """The kept answers of the model version that answers now, for this pool (None before
        both are known). A new version starts with none kept."""
        version = self.health.version
        if version != self._kept_version:
            self._kept, self._kept_version = {}, version
        if version is None or self._manifest is None:
            return None
        return self.answers.of(version, self._manifest.digest)

    async def _prepare(self) -> Game:
        manifest = await self._manifest_once()
        game = await prepare_game(self.services, manifest, self.settings.rounds, self._rng,
                                  self._known())
        self._note_kept(game.rounds)
        return game

    def _note_kept(self, rounds: list[Round]) -> None:
        if self._manifest is not None:
            by_url = {p.url: p for p in self._manifest.photos}
            self._kept.update((r.source, by_url[r.source]) for r in rounds
                              if r.overlay is not None and r.source in by_url)

    def _from_kept(self) -> Game | None:
        """A game made at once from kept answers (no service is called), or None when too few
        are kept or one has gone."""
        known, rounds = self._known(), self.settings.rounds
        if known is None or self._manifest is None or len(self._kept) < rounds:
            return None
        answered = []
        for photo in self._rng.sample(list(self._kept.values()), rounds):
            kept = known.get(photo.url)
            if kept is None:
                self._kept.pop(photo.url, None)
                return None
            answered.append(Answered(photo, kept.photo, kept.prediction, kept.overlay))
        return game_of(self._manifest, answered, True, self._rng)

    def _wanted_ready(self) -> int:
        """Games to keep ready: the games taken in the last ``demand_window`` seconds, between
        ``ready_games`` and ``ready_games_max`` (a crowd finds games waiting)."""
        s, now = self.settings, time.monotonic()
        while self._taken and now - self._taken[0] > s.demand_window:
            self._taken.popleft()
        return max(s.ready_games, min(s.ready_games_max, len(self._taken)))

    async def _warm_answers(self) -> None:
        """Answer the whole pool, a small batch at a time, while no visitor waits for a
        preparation: photos another worker of the machine is answering are skipped. Runs
        again for each new model version."""
        s, batch = self.settings, self.settings.warm_batch
        while True:
            await self._healthy.wait()
            try:
                manifest = await self._manifest_once()
            except NOT_READY:
                await asyncio.sleep(s.health_interval)
                continue
            known = self._known()
            if known is None or not self.health.explainer:
                await asyncio.sleep(s.health_interval)
                continue
            todo = []
            for photo in self._rng.sample(manifest.photos, len(manifest.photos)):
                if known.has(photo.url):
                    self._kept[photo.url] = photo
                else:
                    todo.append(photo)
            log.info("answers kept", extra={"version": known.version, "kept": len(self._kept),
                                            "to_answer": len(todo)})
            for start in range(0, len(todo), batch):
                while self._preparing or len(self._ready) < self._wanted_ready():
                    await asyncio.sleep(0.2)  # visitors first
                if self._known() != known:
                    break  # a new model version: start again
                mine = [p for p in todo[start:start + batch] if known.claim(p.url, 120)]
                if not mine:
                    continue
                try:
                    answered, _explained = await answer(self.services, mine, len(mine), known)
                except NOT_READY as exc:
                    log.warning("could not answer pool photos", extra={"error": str(exc)})
                    await asyncio.sleep(s.health_interval)
                    continue
                self._kept.update((a.pool_photo.url, a.pool_photo) for a in answered
                                  if a.overlay is not None)
            else:
                if len(self._kept) >= len(manifest.photos):
                    await self._version_changed(known.version)
                else:  # photos another worker answered, or that failed: look again later
                    await asyncio.sleep(s.warm_rescan_seconds)

    async def _version_changed(self, version: int) -> None:
        """Wait until another model version answers (the pool is answered for this one)."""
        while self.health.version == version:
            await asyncio.sleep(self.settings.health_interval)

    def _reel_due(self) -> bool:
        return (self._reel is None
                or time.monotonic() - self._reel_made > self.settings.reel_refresh_seconds)

    async def _keep_ready(self) -> None:
        """One of ``prepare_concurrency`` workers: top up the ready games (and the attract
        reel); while a needed back-end is down, wait for it; on failures, back off."""
        pause = 1.0
        while True:
            await self._healthy.wait()
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
        return self._ready.popleft() if self._ready else self._from_kept()

    # --- called from Dash callbacks (web server threads): quick, never on a service ---

    def take_game(self, session_id: str, mode: str) -> Game | None:
        """Give the session a game prepared ahead, to play in ``mode``, or None while one is
        being prepared, or the loop is too busy to hand one over within the render budget
        (the page shows "preparing your game…" and asks again)."""
        try:
            game = self._call(self._take(), timeout=self.settings.render_budget)
        except TimeoutError:
            log.warning("no game handed over within the render budget")
            return None
        if game is not None:
            game.begin(mode)
            self.store.put(session_id, game)
        return game

    def can_start(self) -> bool:
        """Can a game start now? (One is ready, or photos and the AI answer.)"""
        return bool(self._ready) or self.health.can_prepare

    def checked(self) -> bool:
        """Has the first health check finished? (Before it, nothing is known to be down.)"""
        return self._checked

    def cars(self) -> list[Car] | None:
        """Every car a visitor can guess (from the manifest); None if it cannot be had within
        the render budget."""
        if self._manifest is not None:
            return self._manifest.cars
        try:
            return self._call(self._manifest_once(), timeout=self.settings.render_budget).cars
        except NOT_READY:
            return None

    def showcase(self) -> list[Round]:
        """Rounds for the attract screen: photos with the AI's guess and where it looked."""
        return list(self._reel.rounds) if self._reel else []

    # --- /upload (pages/upload.py): a visitor's own photo ---

    def classify(self, model_jpeg: bytes, preview_jpeg: bytes,
                 ) -> tuple[GradCam, list[float], bytes | None]:
        """The AI's top-5 for a visitor's photo, every class's probability (for the make's
        share) and, drawn on ``preview_jpeg``, where it looked (None when the explainer could
        not draw it). Waits at most the two calls' timeouts; raises one of ``NOT_READY`` when
        the model does not answer in that time."""
        async def both() -> tuple[GradCam, list[float], bytes | None]:
            (cam, overlay), probabilities = await asyncio.gather(
                self._classify(model_jpeg, preview_jpeg),
                self.services.model.probabilities([model_jpeg]))
            return cam, probabilities[0], overlay

        return self._call(both(), timeout=2 * self.settings.request_timeout)

    async def _classify(self, model_jpeg: bytes, preview_jpeg: bytes,
                        ) -> tuple[GradCam, bytes | None]:
        cam = (await self.services.model.gradcam([model_jpeg]))[0]
        try:
            overlay = (await self.services.explainer.draw([preview_jpeg], [cam.heatmap]))[0]
        except ServiceError as exc:
            log.warning("no explanation for an uploaded photo", extra={"error": str(exc)})
            overlay = None
        return cam, overlay

    def ready_games(self) -> int:
        return len(self._ready)

    def pool_size(self) -> int:
        """Photos in the pool (0 until the manifest is read)."""
        return len(self._manifest.photos) if self._manifest is not None else 0

    def kept_answers(self) -> int:
        """Pool photos this process knows a kept answer for (under the serving version)."""
        return len(self._kept)

    # --- /explore (pages/explore.py): batches of pool photos with the AI's answers ---

    def explore(self, session_id: str, make: str | None, size: int) -> str:
        """Start preparing a batch of ``size`` pool photos (of ``make`` only, if given) for
        the session and return its id at once. The page polls ``explored`` for it: the batch
        lands in the game store, so every worker can show it. A batch the session asked for
        before in this process is given up."""
        batch_id = secrets.token_hex(8)  # a Game id: guard.is_game_id
        self._loop.call_soon_threadsafe(self._start_exploring, session_id, make, size, batch_id)
        return batch_id

    def explore_makes(self) -> list[str] | None:
        """The makes with photos in the pool, A to Z; None if the manifest cannot be had
        within the render budget."""
        if self._manifest is None:
            try:
                self._call(self._manifest_once(), timeout=self.settings.render_budget)
            except NOT_READY:
                return None
        assert self._manifest is not None
        return sorted({p.answer.make for p in self._manifest.photos})

    def explored(self, session_id: str) -> Game | None:
        """The session's latest batch to be ready (its rounds are the photos), if any."""
        return self.store.get(EXPLORE_KEY + session_id)

    def _start_exploring(self, session_id: str, make: str | None, size: int,
                         batch_id: str) -> None:
        if (before := self._exploring.pop(session_id, None)) is not None:
            before.cancel()
        task = asyncio.create_task(self._explore(session_id, make, size, batch_id))
        self._exploring[session_id] = task
        task.add_done_callback(lambda done: self._exploring.pop(session_id, None)
                               if self._exploring.get(session_id) is done else None)

    async def _explore(self, session_id: str, make: str | None, size: int,
                       batch_id: str) -> None:
        """At most ``prepare_concurrency`` batches at once, beside the games: a crowd of
        explorers queues here instead of flooding the model."""
        async with self._explore_slots:
            try:
                manifest = await self._manifest_once()
                photos = [p for p in manifest.photos if make is None or p.answer.make == make]
                batch = await prepare_rounds(self.services, manifest,
                                             self._rng.sample(photos, len(photos)),
                                             min(size, len(photos)), self._rng, self._known())
            except NOT_READY as exc:
                log.warning("could not prepare a batch to explore", extra={"error": str(exc)})
                return
        batch.id = batch_id
        await asyncio.to_thread(self.store.put, EXPLORE_KEY + session_id, batch)

    # --- /model (pages/model_card.py): the model card, its mistakes and confusions ---

    def model_card(self) -> ModelCard | None:
        """The model's evaluation, as the image server publishes it (read once per process:
        it changes only with a new model, and so a new pool and a restart); None if it
        cannot be had within the render budget."""
        if self._model_card is None:
            try:
                self._model_card = self._call(self.services.images.model_card(),
                                              timeout=self.settings.render_budget)
            except NOT_READY as exc:
                log.warning("no model card", extra={"error": str(exc)})
                return None
        return self._model_card

    def class_photos(self) -> dict[str, str] | None:
        """A pool photo's URL for each car with one; None if the manifest cannot be had
        within the render budget."""
        if self.explore_makes() is None:  # the manifest, read once
            return None
        assert self._manifest is not None
        return {p.answer.class_name: p.url for p in reversed(self._manifest.photos)}

    def pool_photos(self, urls: list[str]) -> list[bytes] | None:
        """Pool photos, fetched in parallel; None if they cannot be had within the render
        budget."""
        async def fetch() -> list[bytes]:
            return list(await asyncio.gather(*(self.services.images.photo(u) for u in urls)))

        try:
            return self._call(fetch(), timeout=self.settings.render_budget)
        except NOT_READY as exc:
            log.warning("pool photos unavailable", extra={"error": str(exc)})
            return None

    def explain_photo(self, url: str) -> tuple[bytes, bytes | None] | None:
        """A pool photo and where the AI looked on it (None when the explainer could not
        draw it): one Grad-CAM call and one drawing, waiting at most the two calls'
        timeouts. None when the photo or the model does not answer in that time."""
        try:
            return self._call(self._explain_photo(url), timeout=2 * self.settings.request_timeout)
        except NOT_READY as exc:
            log.warning("could not explain a photo", extra={"error": str(exc)})
            return None

    async def _explain_photo(self, url: str) -> tuple[bytes, bytes | None]:
        photo = await self.services.images.photo(url)
        _cam, overlay = await self._classify(photo, photo)
        return photo, overlay

    def close(self) -> None:
        async def shut() -> None:
            tasks = [*self._tasks, *self._exploring.values()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._session.close()

        self._call(shut(), timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self.store.close()
        self.answers.close()
