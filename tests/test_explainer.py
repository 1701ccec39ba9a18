"""The explainer: overlays that are right (aligned, RGB), its three request forms, its errors.

Everything past the unit tests goes over real HTTP: ``python -m explainer`` in front of the
local model server (``python -m model.serving``) over the committed SavedModel, on real photos
from the test split.
"""
from __future__ import annotations

import base64
import gzip
import json
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import aiohttp
import cv2
import numpy as np
import pytest
import tensorflow as tf

from common.images import NotAnImage
from devtools.servers import closed_url, explainer, free_port, start, stop
from explainer import overlay
from explainer.explain import Explanation, explain
from explainer.settings import Settings
from model_api.client import GradCam, ModelClient
from tests.data import photo_bytes
from tests.hostile import (
    huge_jpeg,
    listen_addresses,
    one_bit_bmp,
    raw_request,
    rss_bytes,
)

N_PHOTOS = 8
NOT_AN_IMAGE = "not a decodable image"
MAX_PIXELS = Settings().max_pixels


@pytest.fixture(scope="module")
def photos(data_root, test_split) -> list[bytes]:
    """Photos spread over the test split (it is ordered by class)."""
    step = max(1, len(test_split) // N_PHOTOS)
    return photo_bytes(data_root, test_split[::step][:N_PHOTOS])


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def b64(blob: bytes) -> dict:
    return {"b64": base64.b64encode(blob).decode("ascii")}


def jpeg_rgb(blob: bytes) -> np.ndarray:
    """Decode a returned JPEG with TensorFlow, independently of the explainer's OpenCV code."""
    return tf.io.decode_jpeg(blob, channels=3).numpy()


def png(rgb: np.ndarray) -> bytes:
    return tf.io.encode_png(rgb).numpy()


# --- overlay module: pure functions --------------------------------------------------------

def test_colour_map_is_rgb_hot_red_cold_blue():
    colours = overlay.colorize(np.array([[0.0, 1.0]], np.float32)).astype(int)
    (cold, hot) = colours[0]
    assert cold[2] > 100 and cold[0] < 30 and cold[1] < 30  # blue in RGB
    assert hot[0] > 100 and hot[1] < 30 and hot[2] < 30  # red in RGB


def test_decode_gives_rgb_in_every_accepted_format():
    red = np.zeros((20, 30, 3), np.uint8)
    red[..., 0] = 255
    blobs = {"png": png(red), "jpeg": tf.io.encode_jpeg(red).numpy(),
             "bmp": cv2.imencode(".bmp", red[..., ::-1])[1].tobytes(),
             "webp": cv2.imencode(".webp", red[..., ::-1])[1].tobytes()}
    for name, blob in blobs.items():
        image = overlay.decode(blob, MAX_PIXELS)
        assert image.shape == (20, 30, 3) and image.dtype == np.uint8, name
        r, g, b = image.reshape(-1, 3).mean(axis=0)
        assert r > 240 and g < 15 and b < 15, name


@pytest.mark.parametrize("blob", [
    b"", b"hello", b"\xff\xd8\xff\xe0 truncated jpeg",
    cv2.imencode(".tiff", np.zeros((8, 8, 3), np.uint8))[1].tobytes(),  # OpenCV yes, model no
])
def test_decode_rejects_what_is_not_a_usable_image(blob):
    with pytest.raises(NotAnImage, match=NOT_AN_IMAGE):
        overlay.decode(blob, MAX_PIXELS)


def test_heatmap_is_stretched_over_the_photo():
    heatmap = np.zeros((7, 7), np.float32)
    heatmap[0, 6] = 1.0  # top-right cell
    resized = overlay.resize_heatmap(heatmap, 140, 280)
    assert resized.shape == (140, 280)
    assert resized.min() >= 0.0 and resized.max() <= 1.0
    y, x = np.unravel_index(resized.argmax(), resized.shape)
    assert y < 20 and x > 240


def test_blend_weights_heatmap_by_alpha_and_heat():
    photo = np.full((10, 10, 3), 200, np.uint8)
    hot = np.ones((7, 7), np.float32)
    np.testing.assert_array_equal(overlay.blend(photo, hot, 0.0), photo)
    np.testing.assert_array_equal(overlay.blend(photo, hot, 1.0),
                                  overlay.colorize(np.ones((10, 10), np.float32)))
    # Where the AI did not look, the photo shows through untouched: no blue wash.
    np.testing.assert_array_equal(overlay.blend(photo, np.zeros((7, 7), np.float32), 0.6),
                                  photo)


# --- against the real model server -----------------------------------------------------------

def central_mass(heatmap: np.ndarray, box: float) -> float:
    """Share of the heatmap's mass inside the central box covering ``box`` of each side."""
    h, w = heatmap.shape
    top, left = round(h * (1 - box) / 2), round(w * (1 - box) / 2)
    return float(heatmap[top:h - top, left:w - left].sum() / heatmap.sum())


async def test_heatmaps_look_at_the_car_in_the_middle(model_server_url, photos, http):
    """The photos are cropped around the car: Grad-CAM, stretched over them, lands there."""
    cams = await ModelClient(http, model_server_url).gradcam(photos)
    shares = []
    for blob, cam in zip(photos, cams, strict=True):
        h, w = overlay.decode(blob, MAX_PIXELS).shape[:2]
        heatmap = overlay.resize_heatmap(np.asarray(cam.heatmap, np.float32), h, w)
        assert heatmap.shape == (h, w) and heatmap.max() > 0.9
        shares.append(central_mass(heatmap, 0.8))
    # The central 80% box is 64% of the area: a flat map puts 0.64 of its mass there.
    assert sum(s >= 0.6 for s in shares) >= 0.75 * len(shares), shares
    assert np.median(shares) > 0.75, shares


async def test_all_photos_go_to_the_model_in_one_call(model_server_url, photos, http):
    calls: list[int] = []

    class Counting(ModelClient):
        async def gradcam(self, batch) -> list[GradCam]:
            calls.append(len(batch))
            return await super().gradcam(batch)

    batch = [photos[0], b"not a photo", photos[1], photos[2]]
    results = await explain(Counting(http, model_server_url), batch, [None] * 4, 0.45, 90,
                            MAX_PIXELS)
    assert calls == [3]
    assert isinstance(results[1], NotAnImage) and NOT_AN_IMAGE in str(results[1])
    assert all(isinstance(results[i], Explanation) for i in (0, 2, 3))

    # Photos that bring their own heatmap (the game's) are only drawn: no model call for them.
    hot = np.eye(7, dtype=np.float32)
    results = await explain(Counting(http, model_server_url), photos[:3], [hot, None, hot],
                            0.45, 90, MAX_PIXELS)
    assert calls == [3, 1]
    assert [r.class_name is None for r in results] == [True, False, True]
    results = await explain(Counting(http, model_server_url), photos[:2], [hot, hot], 0.45, 90,
                            MAX_PIXELS)
    assert calls == [3, 1]
    expected = overlay.render(overlay.decode(photos[0], MAX_PIXELS), hot, 0.45, 90)
    assert results[0].overlay == expected


async def test_a_given_heatmap_is_drawn_over_http(explainer_url, photos, http):
    body = {"instances": [{**b64(photos[0]), "heatmap": np.eye(7).tolist()}, b64(photos[1])]}
    async with http.post(explainer_url + "/explain", json=body) as r:
        assert r.status == 200
        first, second = (await r.json())["explanations"]
    assert set(first) == {"overlay"} and {"class_name", "overlay"} <= set(second)
    expected = overlay.render(overlay.decode(photos[0], MAX_PIXELS), np.eye(7, dtype=np.float32),
                              Settings().alpha, Settings().jpeg_quality)
    assert base64.b64decode(first["overlay"]["b64"]) == expected


@pytest.mark.parametrize("heatmap", [
    [[[0.1]]], [], [[]], "hot", [["a", "b"]], [[float("nan")]], np.ones((65, 2)).tolist(),
])
async def test_a_bad_heatmap_is_a_400(explainer_url, photos, http, heatmap):
    body = json.dumps({"b64": b64(photos[0])["b64"], "heatmap": heatmap})
    async with http.post(explainer_url + "/explain", data=body,
                         headers={"Content-Type": "application/json"}) as r:
        assert r.status == 400
        assert "heatmap" in (await r.json())["error"]
    async with http.get(explainer_url + "/health") as r:
        assert r.status == 200


async def test_red_photo_stays_red_where_the_model_did_not_look(explainer_url, model_server_url,
                                                                http):
    red = np.zeros((224, 224, 3), np.uint8)
    red[..., 0] = 255
    blob = png(red)
    async with http.post(explainer_url + "/explain", data=blob,
                         headers={"Content-Type": "image/png"}) as r:
        assert r.status == 200 and r.content_type == "image/jpeg"
        image = jpeg_rgb(await r.read()).astype(float)
    [cam] = await ModelClient(http, model_server_url).gradcam([blob])
    heatmap = overlay.resize_heatmap(np.asarray(cam.heatmap, np.float32), 224, 224)
    cold = heatmap < 0.2
    assert cold.mean() > 0.05, "no cold region to check"
    r, g, b = image[cold].mean(axis=0)
    # 55% red photo + 45% dark blue (cold end of jet): red must lead; swapped channels flip it.
    assert r > 120 and r > b + 50 and r > g + 50, (r, g, b)


async def test_health_says_the_model_is_ready(explainer_url, http):
    async with http.get(explainer_url + "/health") as r:
        assert r.status == 200
        assert await r.json() == {"status": "ok", "model": "ready"}


async def test_raw_b64_and_batch_forms_agree_with_the_models_top1(explainer_url,
                                                                  model_server_url, photos, http):
    some = photos[:3]
    top1 = [p.classes[0] for p in await ModelClient(http, model_server_url).predict(some)]
    sizes = [overlay.decode(blob, MAX_PIXELS).shape for blob in some]
    url = explainer_url + "/explain"

    for blob, name, size in zip(some, top1, sizes, strict=True):
        async with http.post(url, data=blob, headers={"Content-Type": "image/jpeg"}) as r:
            assert r.status == 200 and r.content_type == "image/jpeg"
            assert r.headers["X-Explained-Class"] == name
            assert int(r.headers["X-Explained-Class-Index"]) >= 0
            assert jpeg_rgb(await r.read()).shape == size

    async with http.post(url, json=b64(some[0])) as r:
        assert r.status == 200
        single = await r.json()
    assert single["class_name"] == top1[0]
    assert jpeg_rgb(base64.b64decode(single["overlay"]["b64"])).shape == sizes[0]

    instances = [b64(some[0]), b64(b"garbage"), b64(some[1]), b64(some[2])]
    async with http.post(url, json={"instances": instances}) as r:
        assert r.status == 200
        explanations = (await r.json())["explanations"]
    assert len(explanations) == 4
    assert NOT_AN_IMAGE in explanations[1]["error"]
    good = [explanations[i] for i in (0, 2, 3)]
    assert [e["class_name"] for e in good] == top1
    assert good[0]["class_index"] == single["class_index"]
    # Each overlay is its own photo under its own heatmap, in order (up to JPEG loss).
    cams = await ModelClient(http, model_server_url).gradcam(some)
    for e, blob, cam in zip(good, some, cams, strict=True):
        served = jpeg_rgb(base64.b64decode(e["overlay"]["b64"])).astype(float)
        expected = overlay.blend(overlay.decode(blob, MAX_PIXELS), np.asarray(cam.heatmap),
                                 Settings().alpha)
        assert served.shape == expected.shape
        assert np.abs(served - expected).mean() < 4


def too_many() -> bytes:
    return json.dumps({"instances": [{"b64": ""}] * 17}).encode()


@pytest.mark.parametrize("content_type, body, status", [
    ("image/jpeg", b"", 400),
    ("application/json", b"", 400),
    ("image/jpeg", b"x" * (10 * 1024 * 1024 + 1), 413),
    ("text/plain", b"hello", 415),
    ("image/tiff", b"II*\x00", 415),
    ("image/jpeg", b"hello, not a photo", 415),
    ("application/octet-stream", b"\x00" * 100, 415),
    ("application/json", json.dumps(b64(b"hello")).encode(), 415),
    ("application/json", b"{not json", 400),
    ("application/json", b"\xff\xfe\xfa", 400),
    ("application/json", b"[]", 400),
    ("application/json", b'{"photo": "x"}', 400),
    ("application/json", b'{"b64": 5}', 400),
    ("application/json", b'{"b64": "not base64!"}', 400),
    ("application/json", b'{"instances": "x"}', 400),
    ("application/json", b'{"instances": []}', 400),
    ("application/json", b'{"instances": [1]}', 400),
    ("application/json", b'{"instances": [{"b64": "%%%"}]}', 400),
    ("application/json", b'{"b64": "\\u0080"}', 400),
    ("application/json", too_many(), 413),
])
async def test_bad_requests_get_json_errors_and_the_server_keeps_serving(
        explainer_url, http, content_type, body, status):
    async with http.post(explainer_url + "/explain", data=body,
                         headers={"Content-Type": content_type}) as r:
        assert r.status == status
        assert r.content_type == "application/json"
        assert (await r.json())["error"]
    async with http.get(explainer_url + "/health") as r:
        assert r.status == 200


async def test_model_down_is_a_gateway_error_and_health_says_unavailable(photos, http):
    with explainer(closed_url(),
                   EXPLAINER_MODEL_TIMEOUT="2") as url:
        for kwargs in ({"data": photos[0], "headers": {"Content-Type": "image/jpeg"}},
                       {"json": b64(photos[0])}, {"json": {"instances": [b64(photos[0])]}}):
            async with http.post(url + "/explain", **kwargs) as r:
                assert r.status in (502, 503, 504)
                assert "model service" in (await r.json())["error"]
        async with http.get(url + "/health") as r:
            assert r.status == 200
            assert await r.json() == {"status": "ok", "model": "unavailable"}


async def test_model_error_is_a_bad_gateway(model_server_url, photos, http):
    """A model service that answers, but with an error (here: no such model), is a 502."""
    with explainer(model_server_url,
                   EXPLAINER_MODEL_NAME="no_such_model") as url:
        async with http.post(url + "/explain", data=photos[0],
                             headers={"Content-Type": "image/jpeg"}) as r:
            assert r.status == 502
            assert "no_such_model" in (await r.json())["error"]


def test_sigterm_stops_cleanly():
    port = free_port()
    proc = start("explainer", {"EXPLAINER_HOST": "127.0.0.1", "EXPLAINER_PORT": str(port),
                               "EXPLAINER_MODEL_URL": f"http://127.0.0.1:{free_port()}"},
                 "/health", port)
    assert stop(proc) == 0


# --- inputs that cannot hurt it ---------------------------------------------------------------

MODEL_REFUSED = "the model could not decode this photo"


@pytest.fixture(scope="module")
def own_explainer(model_server_url) -> Iterator[tuple[subprocess.Popen, str, int]]:
    """An explainer started with no host setting and a 1 s body timeout: (process, URL, port)."""
    port = free_port()
    proc = start("explainer", {"EXPLAINER_PORT": str(port), "EXPLAINER_BODY_TIMEOUT": "1",
                               "EXPLAINER_MODEL_URL": model_server_url}, "/health", port)
    try:
        yield proc, f"http://127.0.0.1:{port}", port
    finally:
        stop(proc)


def test_it_listens_on_loopback_by_default(own_explainer):
    _, _, port = own_explainer
    assert listen_addresses(port) == {"127.0.0.1"}


async def test_a_photo_the_model_refuses_fails_alone(explainer_url, photos, http):
    """A 1-bit BMP: OpenCV decodes it, the model's graph does not. The model refuses the
    batch; the explainer asks again photo by photo and answers each."""
    bad = one_bit_bmp(photos[0])
    assert overlay.decode(bad, MAX_PIXELS).shape[2] == 3  # OpenCV reads it
    async with http.post(explainer_url + "/explain",
                         json={"instances": [b64(photos[0]), b64(bad), b64(photos[1])]}) as r:
        assert r.status == 200
        first, second, third = (await r.json())["explanations"]
    assert second == {"error": MODEL_REFUSED + ": its image data is corrupt or truncated"}
    assert first["class_name"] and third["class_name"]
    async with http.post(explainer_url + "/explain", data=bad,
                         headers={"Content-Type": "image/bmp"}) as r:
        assert r.status == 415
        assert (await r.json())["error"].startswith(MODEL_REFUSED)


async def test_a_huge_photo_is_refused_in_under_a_second_without_memory(own_explainer, photos,
                                                                       http):
    """A 10000x10000 JPEG (1.5 MB, 300 MB decoded) used to cost the explainer 5.5 s and
    1.55 GB: refused from its header, in every form, in under a second each, and the
    explainer's resident memory grows by less than 200 MB over all of them."""
    proc, url, _ = own_explainer
    huge = huge_jpeg()
    async with http.post(url + "/explain", json=b64(photos[0])) as r:  # warm
        assert r.status == 200
    before = rss_bytes(proc.pid)
    for kwargs in ({"data": huge, "headers": {"Content-Type": "image/jpeg"}}, {"json": b64(huge)}):
        started = time.monotonic()
        async with http.post(url + "/explain", **kwargs) as r:
            assert r.status == 413
            assert (await r.json())["error"] == ("the photo is 10000x10000 pixels (100.0 MP): "
                                                 "at most 40 MP")
        assert time.monotonic() - started < 1.0
    started = time.monotonic()
    async with http.post(url + "/explain", json={"instances": [b64(huge), b64(photos[0])]}) as r:
        assert r.status == 200
        refused, explained = (await r.json())["explanations"]
    assert "at most 40 MP" in refused["error"] and explained["class_name"]
    assert time.monotonic() - started < 1.0
    grown = rss_bytes(proc.pid) - before
    assert grown < 200 * 2**20, f"the explainer grew by {grown / 2**20:.0f} MB"


def test_a_client_that_sends_less_than_it_announced_gets_a_408(own_explainer):
    _, url, _ = own_explainer
    started = time.monotonic()
    status, headers, body = raw_request(url, b"POST /explain HTTP/1.1\r\nHost: x\r\n"
                                             b"Content-Type: image/jpeg\r\n"
                                             b"Content-Length: 5000\r\n\r\n\xff\xd8\xff")
    assert (status, headers.get_content_type()) == (408, "application/json")
    assert json.loads(body)["error"] == "the request body did not arrive within 1s"
    assert time.monotonic() - started < 5


async def test_compressed_bodies_are_decoded_within_the_size_cap(explainer_url, photos, http):
    """gzip is plain HTTP (aiohttp decodes it); a body that is not what it says is a 400; and
    the 10 MB cap counts decoded bytes, so a small gzip bomb is a 413."""
    body = json.dumps(b64(photos[0])).encode()
    async with http.post(explainer_url + "/explain", data=gzip.compress(body), headers={
            "Content-Type": "application/json", "Content-Encoding": "gzip"}) as r:
        assert r.status == 200 and (await r.json())["class_name"]
    for data, status in ((body, 400), (gzip.compress(b" " * (11 * 2**20)), 413)):
        async with http.post(explainer_url + "/explain", data=data, headers={
                "Content-Type": "application/json", "Content-Encoding": "gzip"}) as r:
            assert r.status == status and r.content_type == "application/json"
            assert (await r.json())["error"]
