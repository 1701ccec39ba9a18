"""Every page module is registered once through the same ``register(app, nav)`` contract: no
callback output may be registered twice (Dash would quietly keep the last one, so a page
could lose its callback to another that happens to share an output)."""
from __future__ import annotations

import inspect
from collections import Counter

import pytest

from dashboard import navigation
from dashboard.app import PAGES
from dashboard.pages import waiting
from tests.callbacks import offline_app


@pytest.mark.parametrize("kiosk", [False, True])
def test_every_callback_output_is_registered_once(tmp_path, kiosk):
    app = offline_app(tmp_path, kiosk=kiosk)
    outputs = Counter(callback["output"] for callback in app._callback_list)
    assert [key for key, n in outputs.items() if n > 1] == []
    assert len(app.callback_map) == len(app._callback_list)


def test_every_page_module_has_the_same_register_contract():
    for module in (navigation, *PAGES, waiting):
        parameters = list(inspect.signature(module.register).parameters)
        assert parameters == ["app", "nav"], (module.__name__, parameters)
