"""The photo pool's manifest (its photos and every car a visitor can guess), read once per
process from the image server: it changes only with a new pool, and so with a restart."""
from __future__ import annotations

from dashboard.clients import NOT_READY, ImageServerClient, Manifest
from dashboard.game import Car, makes_of
from dashboard.loop import Loop


class Catalog:
    def __init__(self, loop: Loop, images: ImageServerClient, render_budget: float) -> None:
        self._loop, self._images, self._budget = loop, images, render_budget
        self.manifest: Manifest | None = None  # None until it has been read

    async def read(self) -> Manifest:
        """The manifest, read on the loop the first time."""
        if self.manifest is None:
            self.manifest = await self._images.manifest()
        return self.manifest

    def get(self) -> Manifest | None:
        """For a web thread: the manifest, or None if it cannot be had within the render
        budget."""
        if self.manifest is not None:
            return self.manifest
        try:
            return self._loop.run(self.read(), timeout=self._budget)
        except NOT_READY:
            return None

    def cars(self) -> list[Car] | None:
        """Every car a visitor can guess."""
        manifest = self.get()
        return manifest.cars if manifest is not None else None

    def makes(self) -> list[str] | None:
        """The makes with photos in the pool, A to Z as the game lists them."""
        manifest = self.get()
        return makes_of(p.answer for p in manifest.photos) if manifest is not None else None

    def class_photos(self) -> dict[str, str] | None:
        """A pool photo's URL for each car with one."""
        manifest = self.get()
        if manifest is None:
            return None
        return {p.answer.class_name: p.url for p in reversed(manifest.photos)}

    def size(self) -> int:
        """Photos in the pool (0 until the manifest is read)."""
        return len(self.manifest.photos) if self.manifest is not None else 0
