"""The test harness's fixtures, written once: the real photos and the committed SavedModel,
the services as real processes, the throwaway PostgreSQL and Redis servers, and the browser.

Test modules take these by name and import nothing from here nor from one another; the plain
helpers live in tests/browser.py, tests/data.py, tests/nginx.py, tests/postgres.py and
tests/redis_server.py. Where a program is missing (Chromium, PostgreSQL, redis-server, nginx),
the fixture or helper that would start it skips the test, saying which and how to install it.

Markers (registered in pyproject.toml): ``browser`` and ``slow`` are set here from the
fixtures a test uses (the browser; the TensorFlow model server or the SavedModel); modules set
``stack`` and any other ``slow`` themselves. Modules run heaviest first (launcher, browser,
slow, the rest): on parallel workers the long ones start at once and the quick ones fill the
gaps at the end, and the browser modules follow one another, so one Chromium serves them (see
``pytest_collection_modifyitems``; ``make test`` keeps this order with
``--no-loadscope-reorder``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from model_api import dataset
from tests import quiet
from tests.data import COMMITTED_VERSION

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

    from tests.browser import Chromium, PhotoPool, Visitor
    from tests.postgres import Server as Postgres
    from tests.redis_server import Server as Redis

BROWSER_FIXTURES = frozenset({"browser", "tab", "visitor"})
BROWSER_MODULES = pytest.StashKey[set]()  # the test modules with a test that uses the browser
CHROMIUM = pytest.StashKey["Chromium"]()  # the run's one Chromium, once a test has asked for it
# What makes a test slow by itself: the TensorFlow model server (the explainer needs one), or
# the SavedModel loaded in-process.
SLOW_FIXTURES = frozenset({"model_server_url", "explainer_url", "served"})


HEAVIEST_FIRST = ("stack", "browser", "slow")  # the modules' order: by their heaviest mark;
# the modules with a ``quiet`` test come last, when the other workers run only short tests


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by these marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by the fixtures they use, then order the modules heaviest first, each whole
    and in file order (its module fixtures start once)."""
    browser_modules = set()
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
            browser_modules.add(getattr(item, "module", None))
        if names & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
    weight: dict[object, int] = {}
    for item in items:
        rank = next((i for i, mark in enumerate(HEAVIEST_FIRST) if item.get_closest_marker(mark)),
                    len(HEAVIEST_FIRST))
        if item.get_closest_marker("quiet"):
            rank = len(HEAVIEST_FIRST) + 1
        module = getattr(item, "module", None)
        weight[module] = min(weight.get(module, rank), rank)
    items.sort(key=lambda item: weight[getattr(item, "module", None)])
    config.stash[BROWSER_MODULES] = browser_modules


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Chromium closed before a test of a module without the browser: it may run an asyncio
    loop (see tests.browser.Chromium). Only when something reorders the modules (pytest-xdist's
    ``--dist loadfile`` sends the largest first, ``--failed-first``) does this cost a launch."""
    chromium = item.config.stash.get(CHROMIUM, None)
    if chromium is not None and (getattr(item, "module", None)
                                 not in item.config.stash.get(BROWSER_MODULES, set())):
        chromium.close()


@pytest.fixture(autouse=True)
def _share_the_machine(request: pytest.FixtureRequest,
                       tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """On parallel workers, a ``quiet`` test runs alone (tests/quiet.py)."""
    if not quiet.parallel():
        yield
        return
    folder = tmp_path_factory.getbasetemp().parent  # shared by the run's workers
    with quiet.sharing(folder, request.node.get_closest_marker("quiet") is not None):
        yield


# --- the data and the committed model ------------------------------------------------------

@pytest.fixture(scope="session")
def data_root() -> Path:
    return dataset.data_dir()


@pytest.fixture(scope="session")
def classes(data_root: Path) -> list[dataset.CarClass]:
    return dataset.read_classes(data_root)


@pytest.fixture(scope="session")
def test_split() -> list[dataset.Photo]:
    """The game's photo pool, as recorded with the committed model."""
    return dataset.read_split(COMMITTED_VERSION / "assets" / "split.csv")["test"]


@pytest.fixture(scope="session")
def served():
    """The committed SavedModel, loaded once."""
    import tensorflow as tf

    return tf.saved_model.load(str(COMMITTED_VERSION))


# --- the services, as real processes on loopback ---------------------------------------------

@pytest.fixture(scope="session")
def model_server_url() -> Iterator[str]:
    """Base URL of a real local model server (``python -m model.serving``) for the session."""
    from devtools.servers import model_server

    with model_server() as url:
        yield url


@pytest.fixture(scope="session")
def photo_pool_dir(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The game's photo pool (the committed model's test split), prepared once."""
    from image_server.pool import prepare_pool

    pool_dir = tmp_path_factory.mktemp("photo_pool")
    prepare_pool(data_root, COMMITTED_VERSION, pool_dir)
    return pool_dir


@pytest.fixture(scope="session")
def image_server_url(photo_pool_dir: Path) -> Iterator[str]:
    from devtools.servers import image_server

    with image_server(photo_pool_dir) as url:
        yield url


@pytest.fixture(scope="session")
def explainer_url(model_server_url: str) -> Iterator[str]:
    from devtools.servers import explainer

    with explainer(model_server_url) as url:
        yield url


@pytest.fixture(scope="module")
def game_url(model_server_url: str, explainer_url: str, image_server_url: str) -> Iterator[str]:
    """The dashboard with all three services up (one per module: its games its own)."""
    from devtools.servers import dashboard

    with dashboard(model_server_url, explainer_url, image_server_url) as url:
        yield url


# --- throwaway database and store servers ----------------------------------------------------

@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL server for the session (skipped when its binaries are missing);
    ``postgres.new_database()`` for each test that writes."""
    from tests.postgres import started

    with started() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    """A Redis for the session (skipped when redis-server is missing)."""
    from tests.redis_server import started

    with started() as server:
        yield server


# --- the browser ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def chromium(request: pytest.FixtureRequest) -> Iterator[Chromium]:
    """The run's one Chromium, launched when a test first asks for ``browser``."""
    from tests.browser import Chromium

    chromium = request.config.stash[CHROMIUM] = Chromium()
    yield chromium
    chromium.close()


@pytest.fixture
def browser(chromium: Chromium) -> Browser:
    """The run's Chromium (the test is skipped when it is not installed); tests get contexts
    of their own from ``tab``."""
    return chromium.browser()


@pytest.fixture
def tab(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Makes tabs: a fresh browser context each (its own session), ``options`` as
    ``new_context`` takes them (viewport, touch, locale)."""
    from tests.browser import TIMEOUT_MS, VIEWPORT

    contexts: list[BrowserContext] = []

    def new(**options: object) -> Page:
        context = browser.new_context(**{"viewport": VIEWPORT, **options})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield new
    for context in contexts:
        context.close()


@pytest.fixture
def visitor(tab: Callable[..., Page]) -> Callable[[str], Visitor]:
    """Makes visitors, each in a tab of their own."""
    from tests.browser import Visitor

    return lambda base: Visitor(tab(), base)


@pytest.fixture(scope="module")
def pool(photo_pool_dir: Path) -> PhotoPool:
    """What the test knows of the photo pool: each photo's class, every class's make."""
    from tests.browser import PhotoPool

    return PhotoPool(photo_pool_dir)
