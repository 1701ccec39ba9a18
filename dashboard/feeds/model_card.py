"""/model's feed: the model's evaluation as the image server publishes it, the pool photos
of its mistakes and confusions, and where the AI looked on one of them."""
from __future__ import annotations

import asyncio
import logging

from dashboard.catalog import Catalog
from dashboard.clients import NOT_READY, ModelCard, Services
from dashboard.loop import Loop
from dashboard.prepare import explain_one
from dashboard.settings import Settings

log = logging.getLogger(__name__)


class ModelCardFeed:
    def __init__(self, loop: Loop, services: Services, catalog: Catalog,
                 settings: Settings) -> None:
        self._loop, self._services, self._catalog = loop, services, catalog
        self._budget = settings.render_budget
        self._explain_timeout = 2 * settings.request_timeout  # Grad-CAM, then the drawing
        self._card: ModelCard | None = None

    def card(self) -> ModelCard | None:
        """The model's evaluation (read once per process: it changes only with a new model,
        and so a new pool and a restart); None if it cannot be had within the render
        budget."""
        if self._card is None:
            try:
                self._card = self._loop.run(self._services.images.model_card(),
                                            timeout=self._budget)
            except NOT_READY as exc:
                log.warning("no model card", extra={"error": str(exc)})
                return None
        return self._card

    def class_photos(self) -> dict[str, str] | None:
        """A pool photo's URL for each car with one."""
        return self._catalog.class_photos()

    def pool_photos(self, urls: list[str]) -> list[bytes] | None:
        """Pool photos, fetched in parallel; None if they cannot be had within the render
        budget."""
        async def fetch() -> list[bytes]:
            return list(await asyncio.gather(*(self._services.images.photo(u) for u in urls)))

        try:
            return self._loop.run(fetch(), timeout=self._budget)
        except NOT_READY as exc:
            log.warning("pool photos unavailable", extra={"error": str(exc)})
            return None

    def explain_photo(self, url: str) -> tuple[bytes, bytes | None] | None:
        """A pool photo and where the AI looked on it (None when the explainer could not
        draw it); None when the photo or the model does not answer in time."""
        async def explain() -> tuple[bytes, bytes | None]:
            photo = await self._services.images.photo(url)
            _cam, overlay = await explain_one(self._services, photo, photo)
            return photo, overlay

        try:
            return self._loop.run(explain(), timeout=self._explain_timeout)
        except NOT_READY as exc:
            log.warning("could not explain a photo", extra={"error": str(exc)})
            return None
