"""``/upload`` in a real browser against the real stack: real test-split photos through the
page's file input, answered as the model server answers the same bytes; every kind of bad file
refused on the page with no 5xx; a sideways phone photo shown and classified upright; the
request caps (the upload's body only for the upload); and the 3 m rules."""
from __future__ import annotations

import base64
import http.client
import io
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from dashboard import photos
from dashboard.i18n import _, use
from dashboard.settings import Settings
from dashboard.stats import open_stats
from devtools.servers import dashboard
from model_api.dataset import read_classes
from tests.browser import Visitor, expect
from tests.data import COMMITTED_VERSION
from tests.look import problems

PHOTOS = 20


@pytest.fixture(scope="module")
def stand(tmp_path_factory) -> Path:
    """Where this dashboard keeps its statistics and, as DASHBOARD_KEEP_UPLOADS, photos."""
    return tmp_path_factory.mktemp("upload_stand")


@pytest.fixture(scope="module")
def upload_url(model_server_url, explainer_url, image_server_url, stand) -> Iterator[str]:
    with dashboard(model_server_url, explainer_url, image_server_url,
                   DASHBOARD_KEEP_UPLOADS=str(stand / "kept"),
                   DASHBOARD_DATABASE_URL=f"sqlite:///{stand}/stats.sqlite3") as url:
        yield url


def model_answer(model_url: str, data: bytes) -> dict:
    """The model server's own answer for these bytes (its contract, called directly): the
    top 5, every class's probability and its judgement (a car? sure? its make)."""
    body = json.dumps({"signature_name": "serving_default",
                       "instances": [{"b64": base64.b64encode(data).decode()}]}).encode()
    request = urllib.request.Request(f"{model_url}/v1/models/car_classifier:predict", body,
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["predictions"][0]


def send(page, name: str, data: bytes, mime: str = "image/jpeg") -> None:
    page.locator("#upload-photo input[type=file]").set_input_files(
        {"name": name, "mimeType": mime, "buffer": data})


def top1(page) -> str:
    return page.locator("#upload-top5 .top5-row").first.locator(".top5-label").inner_text()


def shown(page, selector: str) -> bytes:
    src = page.locator(selector).get_attribute("src")
    assert src.startswith("data:image/jpeg;base64,")
    return base64.b64decode(src.split(",", 1)[1])


def pool_photos(photo_pool_dir, n: int) -> list[bytes]:
    return [p.read_bytes() for p in sorted((photo_pool_dir / "photos").iterdir())[:n]]


def test_real_photos_get_the_model_servers_answer_and_the_overlay(
        upload_url, model_server_url, photo_pool_dir, tab, stand):
    classes = read_classes(COMMITTED_VERSION / "assets")
    v = Visitor(tab(), upload_url)
    v.open("/upload")
    expect(v.page.locator("#upload-photo input[type=file]")).to_have_attribute(
        "accept", "image/*")
    preview = v.page.locator("#upload-preview")
    sent = pool_photos(photo_pool_dir, PHOTOS)
    said = {"named": 0, "unsure": 0, "not a car": 0}
    for i, data in enumerate(sent):
        before = preview.get_attribute("src") if i else None
        send(v.page, f"car{i}.jpg", data)
        if before:  # the answer on screen is this photo's, not the last one's
            expect(preview).not_to_have_attribute("src", before)
        row = model_answer(model_server_url, data)
        if not row["is_car"]:  # a pool photo the detector refuses (under 1 % of them)
            expect(v.page.locator("#upload-not-a-car")).to_be_visible()
            said["not a car"] += 1
            continue
        if not row["sure"]:  # no exact car named: the make it is sure of, or "don't know"
            expect(v.page.locator("#upload-unsure")).to_contain_text(
                f"maybe a {row['make']}" if row["make_sure"] else "I don't know this car")
            expect(v.page.locator("#upload-top5")).to_have_count(0)
            expect(v.page.locator("#upload-yes")).to_have_count(0)
            said["unsure"] += 1
            continue
        said["named"] += 1
        want, probabilities = row["top_k_classes"][0], row["probabilities"]
        expect(v.page.locator("#upload-unsure")).to_have_count(0)
        expect(v.page.locator("#upload-top5 .top5-row").first.locator(".top5-label")
               ).to_have_text(want)
        expect(v.page.locator("#upload-overlay")).to_be_visible()
        assert v.page.locator("#upload-overlay").evaluate(
            "i => i.decode().then(() => i.naturalWidth > 0)")
        # the make's share is summed over all of its models, not only those in the top 5
        make = next(c.make for c in classes if c.class_name == want)
        share = sum(p for c, p in zip(classes, probabilities, strict=True) if c.make == make)
        expect(v.page.locator("#upload-make")).to_contain_text(make)
        shown_share = re.search(r"(\d+)\s*%", v.page.locator("#upload-make").inner_text())
        assert abs(int(shown_share[1]) - 100 * share) <= 1, (make, share, shown_share[0])
        last_named = data
    print(f"\n{PHOTOS} pool photos: {said}")
    assert said["named"] and said["unsure"]  # both kinds of answer were shown
    if not model_answer(model_server_url, sent[-1])["sure"]:
        send(v.page, "named.jpg", last_named)  # a photo whose car the AI names
    # the verdict is thanked for and recorded in the statistics
    v.page.locator("#upload-yes").click()
    expect(v.page.locator("#upload-thanks")).to_be_visible()
    stats = open_stats(f"sqlite:///{stand}/stats.sqlite3")
    try:
        assert stats.upload_verdicts() == {"right": 1, "wrong": 0}
    finally:
        stats.close()
    # DASHBOARD_KEEP_UPLOADS names a directory here: every photo is kept there, as sent
    kept = {p.read_bytes() for p in (stand / "kept").iterdir()}
    assert kept >= set(sent) and len(kept) >= PHOTOS
    v.assert_clean()


def test_photos_are_not_kept_unless_the_stand_says_so():
    assert Settings().keep_uploads is None


def animated() -> bytes:
    frames = [Image.new("RGB", (64, 48), c) for c in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:])
    return out.getvalue()


def test_every_kind_of_bad_file_gets_its_message_and_no_server_error(
        upload_url, photo_pool_dir, tab):
    good = pool_photos(photo_pool_dir, 1)[0]
    big = good + bytes(photos.MAX_BYTES)  # a real JPEG grown over 10 MB
    pixels = io.BytesIO()
    Image.new("L", (8000, 5001)).save(pixels, "PNG")
    bad = {
        "not an image": (b"just some text, no photo", photos.NOT_AN_IMAGE),
        "empty": (b"", photos.EMPTY),
        "truncated": (good[:len(good) // 2], photos.TRUNCATED),
        "over 10 MB": (big, photos.TOO_BIG),
        "over 40 MP": (pixels.getvalue(), photos.TOO_MANY_PIXELS),
        "animated": (animated(), photos.ANIMATED),
        "a PDF renamed .jpg": (b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
                               photos.NOT_AN_IMAGE),
    }
    v = Visitor(tab(), upload_url)
    v.open("/upload")
    promise = v.page.locator("#upload-promise")  # what the AI will say, until it says it
    expect(promise).to_be_visible()
    for i, (kind, (data, message)) in enumerate(bad.items()):
        send(v.page, f"bad{i}.jpg", data)
        expect(v.page.locator("#upload-message"), kind).to_have_text(_(message))
        if i == 0:  # refused before any answer: the page still says what it would say
            expect(promise, kind).to_be_visible()
        send(v.page, f"good{i}.jpg", good)  # and the page still answers
        expect(v.page.locator("#upload-message"), kind).to_be_empty()
        expect(v.page.locator("#upload-overlay"), kind).to_be_visible()
        expect(promise, kind).to_have_count(0)
    assert not [r for r in v.bad_responses if r.startswith("5")], v.bad_responses
    v.assert_clean()


def test_a_sideways_phone_photo_is_shown_and_classified_upright(
        upload_url, model_server_url, photo_pool_dir, tab):
    data = pool_photos(photo_pool_dir, 1)[0]
    with Image.open(io.BytesIO(data)) as image:
        upright = image.convert("RGB")
    exif = Image.Exif()
    exif[photos.ORIENTATION] = 6  # "turn me 90° clockwise", as phones write it
    stored = io.BytesIO()
    upright.transpose(Image.Transpose.ROTATE_90).save(stored, "JPEG", quality=95, exif=exif)
    v = Visitor(tab(), upload_url)
    v.open("/upload")
    send(v.page, "phone.jpg", stored.getvalue())
    expect(v.page.locator("#upload-overlay")).to_be_visible()
    with Image.open(io.BytesIO(shown(v.page, "#upload-preview"))) as preview:
        assert preview.width > preview.height == upright.height * preview.width // upright.width
        small = upright.resize(preview.size)
        diff = sum(abs(a - b) for a, b in zip(small.tobytes(), preview.convert("RGB").tobytes(),
                                              strict=True)) / len(small.tobytes())
        assert diff < 12, diff  # the same picture, the right way up
    row = model_answer(model_server_url, data)
    if row["sure"]:
        assert top1(v.page) == row["top_k_classes"][0]
    else:
        expect(v.page.locator("#upload-unsure")).to_be_visible()
    v.assert_clean()


def post(url: str, body: bytes) -> int:
    request = urllib.request.Request(url + "/_dash-update-component", body,
                                     {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def callback_body(output: str, inputs: list[dict], state: list[dict]) -> bytes:
    outputs = [{"id": o.split("@")[0].rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]}
               for o in output.strip(".").split("...")]
    return json.dumps({"output": output, "outputs": outputs if len(outputs) > 1 else outputs[0],
                       "inputs": inputs, "state": state, "changedPropIds": []}).encode()


def test_only_the_upload_may_send_a_large_body(upload_url, photo_pool_dir):
    """A 9 MB photo reaches the upload's callback; 2 MB to any other callback is a 413."""
    with urllib.request.urlopen(upload_url + "/_dash-dependencies", timeout=10) as response:
        deps = json.load(response)
    upload = next(d for d in deps if d["inputs"] == [{"id": "upload-file", "property": "data"}])
    other = next(d for d in deps if d["inputs"] == [{"id": "upload-yes", "property": "n_clicks"},
                                                    {"id": "upload-no", "property": "n_clicks"}])
    photo = Image.effect_noise((2600, 2000), 90).convert("RGB")
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=100)
    data = out.getvalue()
    assert 1024 * 1024 < len(data) <= photos.MAX_BYTES
    contents = "data:image/jpeg;base64," + base64.b64encode(data).decode()
    body = callback_body(upload["output"], [{"id": "upload-file", "property": "data",
                                             "value": contents}],
                         [{"id": "language", "property": "data", "value": "en"}])
    assert len(body) > 1024 * 1024
    assert post(upload_url, body) == 200
    padding = "x" * (2 * 1024 * 1024)
    body = callback_body(other["output"], [
        {"id": "upload-yes", "property": "n_clicks", "value": 1},
        {"id": "upload-no", "property": "n_clicks", "value": None}], [
        {"id": "upload-id", "property": "data", "value": "0" * 16},
        {"id": "upload-top1", "property": "data", "value": "BMW M3 Coupe 2012"},
        {"id": "language", "property": "data", "value": "en"}])
    body = body[:-1] + f', "padding": "{padding}"}}'.encode()
    assert post(upload_url, body) == 413
    assert announced(upload_url, 15 * 1000 * 1000) == 413  # over the upload's cap: unread


def announced(url: str, length: int) -> int:
    """The status for a callback body that announces ``length`` bytes (and sends none)."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest("POST", "/_dash-update-component")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(length))
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 800)])
def test_the_page_is_made_for_3_m(upload_url, photo_pool_dir, tab, size):
    v = Visitor(tab(viewport={"width": size[0], "height": size[1]}), upload_url)
    v.open("/upload")
    send(v.page, "car.jpg", pool_photos(photo_pool_dir, 1)[0])
    expect(v.page.locator("#upload-overlay")).to_be_visible()
    assert problems(v.page, large=size == (1920, 1080)) == []


def test_a_photo_that_is_not_a_car_gets_no_car_name(upload_url, tab):
    """scikit-image's own photos (a cat, a cup of coffee): "I don't see a car here", no top 5,
    nothing to judge, in the visitor's language."""
    import skimage.data

    v = Visitor(tab(), upload_url)
    for language, name in (("en", "chelsea"), ("de", "coffee")):
        v.open(f"/upload?lang={language}")
        picture = io.BytesIO()
        Image.fromarray(getattr(skimage.data, name)()).save(picture, "JPEG", quality=90)
        send(v.page, f"{name}.jpg", picture.getvalue())
        with use(language):
            expect(v.page.locator("#upload-not-a-car")).to_contain_text(
                _("I don't see a car here."))
        expect(v.page.locator("#upload-top5")).to_have_count(0)
        expect(v.page.locator("#upload-yes")).to_have_count(0)
        expect(v.page.locator("#upload-preview")).to_be_visible()
    v.assert_clean()
