"""Everything a dashboard process runs beside its web threads, built once per process and
closed at exit: the loop (``dashboard.loop``), the game store, and the pieces the pages are
handed through the navigator: the event's settings, the back-ends' health, the game pool,
the pool's kept model outputs, the catalog and the per-page feeds."""
from __future__ import annotations

import random

from dashboard.catalog import Catalog
from dashboard.clients import Services
from dashboard.event.config import EventConfig
from dashboard.feeds.explore import ExploreFeed
from dashboard.feeds.model_card import ModelCardFeed
from dashboard.feeds.upload import UploadFeed
from dashboard.game_pool import GamePool
from dashboard.health import HealthWatcher
from dashboard.loop import Loop
from dashboard.operator.errors import ErrorWindow
from dashboard.operator.stand import Stand
from dashboard.output_cache import open_output_cache
from dashboard.pool_outputs import PoolOutputs
from dashboard.settings import Settings
from dashboard.store import GameStore, open_store


class Runtime:
    def __init__(self, settings: Settings, event: EventConfig) -> None:
        rng = random.Random()
        self.settings = settings  # the pages read the phones' address and the Wi-Fi from it
        self.loop = Loop()
        self.event = event
        self.store: GameStore = open_store(settings)
        services = Services.connect(self.loop.session, settings)
        self.health = HealthWatcher(self.loop, services, self.store, settings)
        self.catalog = Catalog(self.loop, services.images, settings.render_budget)
        self.outputs = PoolOutputs(open_output_cache(settings), services, self.health,
                                   self.catalog, settings, rng)
        self.games = GamePool(self.loop, services, self.health, self.catalog, self.outputs,
                              self.store, event, settings, rng)
        self.upload = UploadFeed(self.loop, services, settings)
        self.explore = ExploreFeed(self.loop, services, self.catalog, self.outputs, self.store,
                                   settings, rng)
        self.model_card = ModelCardFeed(self.loop, services, self.catalog, settings)
        self.stand = Stand(self.loop, settings.supervisor_url)  # the console's restarts
        self.errors = ErrorWindow()  # the console's errors in the last hour
        self.errors.start(self.loop)
        self.health.start()
        self.games.start()
        self.event.start(self.loop)

    def close(self) -> None:
        self.loop.close()
        self.store.close()
        self.outputs.cache.close()
