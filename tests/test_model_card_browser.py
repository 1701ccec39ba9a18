"""``/model`` in real Chromium against the real stack: the card's figures are those of the
committed evaluation (metrics.json), published by the image server; a mistake shows its pool
photo, its Grad-CAM from the model server and the explainer, the truth and the recorded top 5;
the accuracy table searches, sorts and pages; the confused pairs; and the page read from 3 m
(tests/look.py) on every tab, at 1920×1080 and 1280×800."""
from __future__ import annotations

import base64
import json
import os
import urllib.request
from collections.abc import Iterator

import pytest

from dashboard.i18n import decimal, percent, use
from devtools.servers import dashboard
from model_api.contract import METRICS_FILE
from tests.browser import expect, sync_api
from tests.data import COMMITTED_VERSION
from tests.look import problems

JPEG = "data:image/jpeg;base64,"
TABS = {"card": "Its card", "classes": "Every car", "confused": "Often confused",
        "mistakes": "Its mistakes"}
SHOTS = os.environ.get("MODEL_PAGE_SHOTS")  # a folder: screenshots of each tab, for a human


@pytest.fixture(scope="module")
def metrics() -> dict:
    return json.loads((COMMITTED_VERSION.parent / METRICS_FILE).read_text())


@pytest.fixture(scope="module")
def card(image_server_url: str) -> dict:
    with urllib.request.urlopen(image_server_url + "/model-card.json", timeout=10) as r:
        return json.load(r)


@pytest.fixture(scope="module")
def model_url(model_server_url: str, explainer_url: str, image_server_url: str) -> Iterator[str]:
    with dashboard(model_server_url, explainer_url, image_server_url,
                   DASHBOARD_READY_GAMES="0") as url:  # no games: this machine shows the model
        yield url


def pool_photo(image_server_url: str, url: str) -> bytes:
    with urllib.request.urlopen(image_server_url + url, timeout=10) as r:
        return r.read()


def photo_of(src: str | None) -> bytes:
    assert src and src.startswith(JPEG), (src or "")[:60]
    return base64.b64decode(src[len(JPEG):])


def open_tab(page: sync_api.Page, name: str) -> None:
    page.get_by_role("tab", name=TABS[name]).click()


def look_at_every_tab(page: sync_api.Page, large: bool, name: str) -> list[str]:
    """The 3 m checks on each tab, once its content is drawn."""
    drawn = {"card": "#model-top1", "classes": "#model-classes td",
             "confused": "#model-pair-0", "mistakes": "#model-mistake-top5"}
    found = []
    for tab_name, selector in drawn.items():
        open_tab(page, tab_name)
        expect(page.locator(selector).first).to_be_visible()
        found += [f"{tab_name}: {f}" for f in problems(page, large)]
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/{name}-{tab_name}.png")
    return found


def test_the_card_shows_the_committed_evaluation(model_url, metrics, card, tab):
    # the image server publishes exactly the evaluation (less mistakes on non-pool photos)
    assert {k: v for k, v in card.items() if k != "mistakes"} == {
        k: v for k, v in metrics.items() if k != "mistakes"}
    page = tab()
    page.goto(model_url + "/model")
    training = metrics["training"]
    with use("en"):
        expected = {
            "#model-top1": percent(metrics["top1"], 1),  # one decimal, as metrics.json has it
            "#model-top5": percent(metrics["top5"], 1),
            "#model-make": percent(metrics["make_accuracy"], 1),
            "#model-backbone": f"EfficientNet-{training['args']['variant']}",
            "#model-input": "{width} × {height} pixels".format(**metrics["input_size"]),
            "#model-recipe-epochs": training["args"]["epochs"],
            "#model-recipe-learning_rate": training["args"]["learning_rate"],
            "#model-train-minutes": f"{decimal(training['train_minutes'])} minutes",
        }
    for selector, text in expected.items():
        expect(page.locator(selector)).to_have_text(text)
    expect(page.locator("#model-measured")).to_contain_text(f"{metrics['photos']:,} test photos")
    expect(page.locator("#model-trained-on")).to_contain_text(
        f"{training['photos']['train']:,} photos")
    assert page.locator("#model-top1").text_content() != page.locator("#model-top5").text_content()


def test_a_mistake_shows_its_photo_grad_cam_truth_and_top5(model_url, card, image_server_url,
                                                          tab):
    mistakes = card["mistakes"]
    assert len(mistakes) > 100
    page = tab()
    page.goto(model_url + "/model")
    open_tab(page, "mistakes")
    top5 = page.locator("#model-mistake-top5")
    for number in (1, 2, len(mistakes)):  # the first, Next, and Previous twice: wraps around
        mistake = mistakes[number - 1]
        expect(page.locator("#model-mistake-position")).to_have_text(
            f"Mistake {number} of {len(mistakes)}")
        expect(top5).to_be_visible()
        rows = top5.locator(".top5-row").filter(has=page.locator(".top5-bar"))
        expect(rows).to_have_count(5)
        labels = [r.locator(".top5-label").evaluate("e => e.firstChild.textContent")
                  for r in rows.all()]
        assert labels == [t["class_name"] for t in mistake["top5"]]
        marked = top5.locator(".top5-answer .top5-label").evaluate_all(
            "es => es.map(e => e.firstChild.textContent)")
        assert marked == ([mistake["true"]] if mistake["true"] in labels else [])
        expect(page.locator("#model-mistake-truth .guess-name")).to_have_text(mistake["true"])
        expect(page.locator("#model-mistake-guess .guess-name")).to_have_text(labels[0])
        assert labels[0] != mistake["true"]
        photo = photo_of(page.locator("#model-mistake-photo").get_attribute("src"))
        assert photo == pool_photo(image_server_url, mistake["url"])
        overlay = photo_of(page.locator("#model-mistake-overlay").get_attribute("src"))
        assert overlay[:2] == b"\xff\xd8" and overlay != photo  # drawn over the photo
        expect(page.locator("#model-mistake .gradcam-legend")).to_be_visible()
        if number == 1:
            page.locator("#model-mistake-next").click()
        elif number == 2:
            page.locator("#model-mistake-prev").click()
            expect(page.locator("#model-mistake-position")).to_have_text(
                f"Mistake 1 of {len(mistakes)}")
            page.locator("#model-mistake-prev").click()


def table(page: sync_api.Page) -> list[tuple[str, float]]:
    cells = page.locator("#model-classes td[data-dash-column]").evaluate_all(
        "tds => tds.map(td => [td.dataset.dashColumn, td.textContent])")
    cars = [text for column, text in cells if column == "car"]
    shares = [float(text) for column, text in cells if column == "accuracy"]
    return list(zip(cars, shares, strict=True))


def test_the_accuracy_table_searches_sorts_and_pages(model_url, card, tab):
    per_class = {name: round(share * 100, 1) for name, share in card["per_class_accuracy"].items()}
    page = tab()
    page.goto(model_url + "/model")
    open_tab(page, "classes")
    expect(page.locator("#model-classes td").first).to_be_visible()
    assert table(page) == sorted(per_class.items())[:10]
    expect(page.locator("#model-classes-position")).to_have_text(
        f"Page 1 of {-(-len(per_class) // 10)}")

    page.locator("#model-classes-search").fill("chevrolet 2012")
    found = sorted((n, s) for n, s in per_class.items() if "Chevrolet" in n and "2012" in n)
    assert len(found) > 10  # more than a page: the pager pages it
    expect(page.locator("#model-classes td[data-dash-column=car]").first).to_have_text(found[0][0])
    assert table(page) == found[:10]
    expect(page.locator("#model-classes-position")).to_have_text("Page 1 of 2")
    page.locator("#model-classes-next").click()
    expect(page.locator("#model-classes-position")).to_have_text("Page 2 of 2")
    expect(page.locator("#model-classes td[data-dash-column=car]").first).to_have_text(found[10][0])
    assert table(page) == found[10:20]

    page.locator("#model-classes-prev").click()
    expect(page.locator("#model-classes-position")).to_have_text("Page 1 of 2")
    page.locator("#model-classes th[data-dash-column=accuracy] .column-header--sort").click()
    worst = sorted(found, key=lambda row: row[1])
    expect(page.locator("#model-classes td[data-dash-column=accuracy]").first).to_have_text(
        f"{worst[0][1]:g}")
    assert [s for _, s in table(page)] == [s for _, s in worst[:10]]


def test_the_most_confused_pairs_show_a_photo_of_each_side(model_url, card, tab):
    page = tab()
    page.goto(model_url + "/model")
    open_tab(page, "confused")
    expect(page.locator("#model-pair-0")).to_be_visible()
    for i, pair in enumerate(card["most_confused"][:3]):
        row = page.locator(f"#model-pair-{i}")
        expect(row.locator(".model-pair-truth")).to_have_text(pair["true"])
        expect(row.locator(".model-pair-guess")).to_have_text(pair["predicted"])
        expect(row.locator(".model-pair-count")).to_contain_text(str(pair["count"]))
        images = row.locator("img")
        expect(images).to_have_count(2)
        assert [i.get_attribute("alt") for i in images.all()] == [pair["true"], pair["predicted"]]
    expect(page.locator("#model-pairs-position")).to_have_text("Page 1 of 5")
    page.locator("#model-pairs-next").click()
    expect(page.locator("#model-pair-0 .model-pair-truth")).to_have_text(
        card["most_confused"][3]["true"])


@pytest.mark.parametrize("viewport", [(1920, 1080), (1280, 800)])
def test_the_page_reads_from_3_m_on_every_tab(model_url, tab, viewport):
    width, height = viewport
    page = tab(viewport={"width": width, "height": height}, has_touch=width < 1920)
    bad: list[str] = []
    page.on("response", lambda r: bad.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(model_url + "/model")
    found = look_at_every_tab(page, large=width == 1920, name=f"{width}x{height}")
    assert found == [], "\n".join(found)
    assert bad == []
