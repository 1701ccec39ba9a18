"""The image server: the pool is exactly the model's test split, served as files, nothing else.

The same HTTP checks run against ``python -m image_server`` and, where nginx is installed,
against nginx with ``image_server/nginx.conf`` (the Docker server).
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from devtools.servers import REPO, free_port, image_server, start, stop
from image_server import pool, text_scan
from model_api import dataset
from model_api.contract import METRICS_FILE, SPLIT_ASSET
from tests import nginx
from tests.data import COMMITTED_VERSION
from tests.hostile import listen_addresses, raw_request

PHOTO_CACHE = "public, max-age=86400, immutable"
TRAVERSALS = [
    "/photos/../../../../../../etc/passwd",
    "/photos/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/photos/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/photos/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/photos/.%2e/.%2e/.%2e/.%2e/.%2e/.%2e/etc/passwd",
    "/photos/%252e%252e%252f%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/photos/..%5c..%5c..%5c..%5c..%5c..%5cetc%5cpasswd",
    "/photos/..\\..\\..\\..\\..\\..\\etc\\passwd",
    "/photos//etc/passwd",
    "/photos/%2fetc%2fpasswd",
    "/photos/C:%5cWindows%5cwin.ini",
    "//etc/passwd",
]


def fetch(base: str, path: str, method: str = "GET", headers: dict[str, str] | None = None,
          ) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request with ``path`` sent exactly as written (no client-side normalising)."""
    conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in directory.iterdir()}


@pytest.fixture(scope="session")
def version_dir() -> Path:
    return COMMITTED_VERSION


@pytest.fixture(scope="session")
def split(version_dir: Path) -> dict[str, list[dataset.Photo]]:
    return dataset.read_split(version_dir / "assets" / SPLIT_ASSET)


@pytest.fixture(scope="session")
def pool_dir(data_root: Path, version_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("photo_pool")
    pool.prepare_pool(data_root, version_dir, directory)
    return directory


@pytest.fixture(scope="session")
def manifest(pool_dir: Path) -> dict:
    return json.loads((pool_dir / pool.MANIFEST).read_text())


@contextmanager
def nginx_server(root: Path, work: Path) -> Iterator[str]:
    """nginx with image_server/nginx.conf, only its port and root swapped (tests/nginx.py)."""
    port = free_port()
    server = (REPO / "image_server" / "nginx.conf").read_text()
    for old, new in [("listen 8081;", f"listen 127.0.0.1:{port};"),
                     ("root /srv/pool;", f"root {root};")]:
        assert server.count(old) == 1, f"nginx.conf no longer says {old!r}"
        server = server.replace(old, new)
    with nginx.started(work, nginx.http_config(work, server), port) as running:
        yield running.url


@pytest.fixture(scope="module")
def aiohttp_url(pool_dir: Path) -> Iterator[str]:
    with image_server(pool_dir) as url:
        yield url


@pytest.fixture(scope="module")
def nginx_url(pool_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with nginx_server(pool_dir, tmp_path_factory.mktemp("nginx")) as url:
        yield url


@pytest.fixture(params=["aiohttp", "nginx"])
def server(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(kind, base URL) of each implementation of the image server."""
    return request.param, request.getfixturevalue(f"{request.param}_url")


# --- prepare: the pool ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def giveaways(pool_dir: Path) -> set[str]:
    """The test photos whose visible text names the car, as the committed scan found them."""
    report = json.loads((pool_dir / pool.GIVEAWAYS).read_text())
    assert report["count"] == len(report["photos"])
    return {p["file"] for p in report["photos"]}


def test_pool_is_exactly_the_models_test_split_less_giveaways(pool_dir, split, manifest,
                                                              version_dir, giveaways):
    assert giveaways == {f for f, v in text_scan.read_scan().items() if v.names_car}
    assert giveaways < {p.file for p in split["test"]}
    files = {p.file for p in split["test"]} - giveaways
    assert {p.name for p in (pool_dir / pool.PHOTOS).iterdir()} == files
    assert manifest["count"] == len(split["test"]) - len(giveaways) == len(manifest["photos"])
    assert {e["file"] for e in manifest["photos"]} == files
    assert not files & {p.file for p in split["train"] + split["val"]}
    assert manifest["model_version"] == int(version_dir.name)


def test_model_card_is_the_evaluation_with_only_the_pools_mistakes(pool_dir, version_dir,
                                                                   manifest, giveaways):
    metrics = json.loads((version_dir.parent / METRICS_FILE).read_text())
    card = json.loads((pool_dir / pool.MODEL_CARD).read_text())
    assert {k: v for k, v in card.items() if k != "mistakes"} == {
        k: v for k, v in metrics.items() if k != "mistakes"}
    pool_files = {e["file"] for e in manifest["photos"]}
    # The committed evaluation has mistakes on giveaway photos too: they must not be published.
    assert {m["file"] for m in metrics["mistakes"]} & giveaways
    assert card["mistakes"] == [{**m, "url": f"/photos/{m['file']}"} for m in metrics["mistakes"]
                                if m["file"] in pool_files]
    assert all(m["true"] != m["top5"][0]["class_name"] for m in card["mistakes"])


def test_manifest_describes_each_photo_with_the_models_classes(manifest, split, version_dir,
                                                               giveaways):
    classes = {c.class_id: c for c in dataset.read_classes(version_dir / "assets")}
    labels = {p.file: p.class_id for p in split["test"] if p.file not in giveaways}
    entries = manifest["photos"]
    assert [e["file"] for e in entries] == sorted(labels)
    for entry in entries:
        car = classes[labels[entry["file"]]]
        assert entry == {
            "file": entry["file"], "class_id": car.class_id, "class_name": car.class_name,
            "make": car.make, "model": car.model, "year": car.year,
            "url": f"/photos/{entry['file']}",
        }
    assert manifest["classes"] == [
        {"class_id": c.class_id, "class_name": c.class_name, "make": c.make,
         "model": c.model, "year": c.year} for c in classes.values()
    ]


def test_pool_photos_are_the_original_files(pool_dir, data_root, manifest):
    for entry in manifest["photos"]:
        copy = (pool_dir / pool.PHOTOS / entry["file"]).read_bytes()
        assert copy == (data_root / "images" / entry["file"]).read_bytes(), entry["file"]


def test_preparing_again_copies_nothing_and_drops_stale_files(pool_dir, data_root, version_dir):
    photos_dir = pool_dir / pool.PHOTOS
    before, manifest_before = snapshot(photos_dir), snapshot(pool_dir)[pool.MANIFEST]
    (photos_dir / "stale.jpg").write_bytes(b"not in the split")
    (photos_dir / ".00001.jpg.part").write_bytes(b"an interrupted copy")
    env = {**os.environ, "CARS_DATA_DIR": str(data_root), "IMAGE_SERVER_POOL_DIR": str(pool_dir),
           "IMAGE_SERVER_MODEL_VERSION_DIR": str(version_dir)}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "image_server.prepare"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert snapshot(photos_dir) == before  # no photo rewritten, stale files gone
    assert snapshot(pool_dir)[pool.MANIFEST] == manifest_before  # nginx's ETag holds
    assert '"copied": 0' in done.stderr and '"removed": 2' in done.stderr
    assert elapsed < 15



def test_prepare_without_a_model_says_how_to_get_one(data_root, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"python -m model\.train"):
        pool.prepare_pool(data_root, tmp_path / "1", tmp_path / "pool")

def test_image_server_never_loads_tensorflow():
    code = ("import sys, image_server.__main__, image_server.prepare; "
            "sys.exit('tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, timeout=60, check=False)
    assert done.returncode == 0, "importing the image server loaded TensorFlow"


# --- serving ---------------------------------------------------------------------------------


def test_health(server, manifest):
    kind, url = server
    status, headers, body = fetch(url, "/health")
    assert status == 200 and headers.get_content_type() == "application/json"
    expected = {"status": "ok"} | ({"photos": manifest["count"]} if kind == "aiohttp" else {})
    assert json.loads(body) == expected


def test_manifest_is_revalidated_by_etag(server, pool_dir):
    _, url = server
    status, headers, body = fetch(url, "/manifest.json")
    assert status == 200 and headers.get_content_type() == "application/json"
    assert body == (pool_dir / pool.MANIFEST).read_bytes()
    assert headers["Cache-Control"] == "no-cache"
    status, headers, body = fetch(url, "/manifest.json", headers={"If-None-Match": headers["ETag"]})
    assert (status, body) == (304, b"")
    assert headers["Cache-Control"] == "no-cache"


def test_model_card_is_served(server, pool_dir):
    _, url = server
    status, headers, body = fetch(url, "/model-card.json")
    assert status == 200 and headers.get_content_type() == "application/json"
    assert body == (pool_dir / pool.MODEL_CARD).read_bytes()
    assert headers["Cache-Control"] == "no-cache"


def test_photo_is_the_original_cached_for_long(server, data_root, manifest):
    _, url = server
    entry = manifest["photos"][0]
    original = (data_root / "images" / entry["file"]).read_bytes()
    status, headers, body = fetch(url, entry["url"])
    assert (status, body) == (200, original)
    assert headers.get_content_type() == "image/jpeg"
    assert headers["Cache-Control"] == PHOTO_CACHE
    for condition in ({"If-None-Match": headers["ETag"]},
                      {"If-Modified-Since": headers["Last-Modified"]}):
        status, again, body = fetch(url, entry["url"], headers=condition)
        assert (status, body) == (304, b""), condition
        assert again["Cache-Control"] == PHOTO_CACHE
    status, headers, body = fetch(url, entry["url"], headers={"Range": "bytes=0-99"})
    assert (status, body) == (206, original[:100])
    status, headers, body = fetch(url, entry["url"], method="HEAD")
    assert (status, body, int(headers["Content-Length"])) == (200, b"", len(original))


def test_photos_outside_the_pool_are_json_404s(server, split):
    _, url = server
    for path in (f"/photos/{split['train'][0].file}", "/photos/nope.jpg", "/photos/", "/nope",
                 "/"):
        status, headers, body = fetch(url, path)
        assert status == 404, path
        assert headers.get_content_type() == "application/json"
        assert "error" in json.loads(body)


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_refused_and_the_server_keeps_serving(server, path):
    kind, url = server
    status, headers, body = fetch(url, path)
    # nginx rejects a path climbing above its root as a bad request before looking anything up.
    assert status == 404 or (kind == "nginx" and status == 400), (status, body)
    assert headers.get_content_type() == "application/json"
    assert "error" in json.loads(body)
    assert fetch(url, "/health")[0] == 200


def test_traversal_to_a_real_dataset_photo_is_refused(server, pool_dir, data_root, split):
    kind, url = server
    target = os.path.relpath(data_root / "images" / split["train"][0].file, pool_dir / pool.PHOTOS)
    encoded = target.replace("/", "%2f")
    for path in (target, encoded, encoded.replace(".", "%2e")):
        status, _, body = fetch(url, f"/photos/{path}")
        assert status == 404 or (kind == "nginx" and status == 400), (path, status)
        assert "error" in json.loads(body)


def test_only_get_and_head_are_allowed(server):
    _, url = server
    for method, path in [("POST", "/health"), ("PUT", "/photos/x.jpg"),
                         ("DELETE", "/manifest.json")]:
        status, _, body = fetch(url, path, method=method)
        assert status == 405 and "error" in json.loads(body), (method, path)


def test_a_photo_not_in_the_manifest_is_not_served_even_if_on_disk(aiohttp_url, pool_dir,
                                                                   data_root, split):
    stray = pool_dir / pool.PHOTOS / split["train"][0].file
    shutil.copyfile(data_root / "images" / stray.name, stray)
    try:
        assert fetch(aiohttp_url, f"/photos/{stray.name}")[0] == 404
    finally:
        stray.unlink()


# --- no pool -----------------------------------------------------------------------------------


def test_server_without_a_pool_exits_saying_how_to_make_one(tmp_path):
    env = {**os.environ, "IMAGE_SERVER_HOST": "127.0.0.1",
           "IMAGE_SERVER_PORT": str(free_port()), "IMAGE_SERVER_POOL_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "image_server"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "manifest.json is missing" in done.stderr
    assert "python -m image_server.prepare" in done.stderr


def test_nginx_without_a_pool_is_unhealthy(tmp_path):
    (tmp_path / "pool").mkdir()
    with nginx_server(tmp_path / "pool", tmp_path / "nginx") as url:
        status, _, body = fetch(url, "/health")
        assert status == 503 and "image_server.prepare" in json.loads(body)["error"]
        assert fetch(url, "/manifest.json")[0] == 404


# --- inputs that cannot hurt it ---------------------------------------------------------------


@pytest.fixture(scope="module")
def own_server(pool_dir: Path) -> Iterator[tuple[str, int]]:
    """The aiohttp server started with no host setting and a 1 s body timeout."""
    port = free_port()
    proc = start("image_server", {"IMAGE_SERVER_PORT": str(port), "IMAGE_SERVER_BODY_TIMEOUT": "1",
                                  "IMAGE_SERVER_POOL_DIR": str(pool_dir)}, "/health", port)
    try:
        yield f"http://127.0.0.1:{port}", port
    finally:
        stop(proc)


def test_it_listens_on_loopback_by_default(own_server):
    _, port = own_server
    assert listen_addresses(port) == {"127.0.0.1"}


def test_refused_ranges_and_preconditions_are_json(server, manifest, pool_dir):
    """FileResponse (and nginx) answer these with an empty or HTML body unless told."""
    kind, url = server
    entry = manifest["photos"][0]
    size = (pool_dir / pool.PHOTOS / entry["file"]).stat().st_size
    etag = fetch(url, entry["url"])[1]["ETag"]
    for headers, status in [
        ({"Range": f"bytes={size}-"}, 416),
        ({"Range": f"bytes={size + 10}-{size + 20}"}, 416),
        ({"If-Match": '"not-this-one"'}, 412),
        ({"If-Unmodified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"}, 412),
    ]:
        got, answer, body = fetch(url, entry["url"], headers=headers)
        assert got == status, (headers, got)
        assert answer.get_content_type() == "application/json", headers
        assert json.loads(body)["error"], headers
    if kind == "aiohttp":  # nginx ignores a Range it cannot parse, as RFC 9110 allows
        for bad in ("bytes=9-2", "bytes=0-1,5-6", "lines=1-2", "bytes=-"):
            got, answer, body = fetch(url, entry["url"], headers={"Range": bad})
            assert got == 416 and json.loads(body)["error"], bad
            assert answer["Content-Range"] == f"bytes */{size}"
    for headers in ({"If-Match": etag}, {"If-Match": "*"}, {"Range": "bytes=-10"}):
        got, _, body = fetch(url, entry["url"], headers=headers)
        assert got in (200, 206), (headers, got)


def test_parser_level_errors_are_json_without_echo_or_versions(own_server):
    """What aiohttp's HTTP parser refuses never reaches a handler: it still answers JSON, says
    nothing of the request back, and names no versions."""
    url, _ = own_server
    for raw in (b"GET /<script>alert(1)</script> HTTP/9.9\r\n\r\n",
                b"<script>alert(1)</script> / HTTP/1.1\r\n\r\n",
                b"GET /health HTTP/1.1\r\nHost: x\r\nBad<script>: 1\r\n\r\n",
                b"GET /health HTTP/1.1\r\nHost: x\r\nX: " + b"<script>" * 2000 + b"\r\n\r\n",
                b"GET /health HTTP/1.1\r\nHost: x\r\nExpect: <script>\r\n\r\n",
                b"GET /health HTTP/1.1\r\nContent-Length: -1\r\n\r\n"):
        status, headers, body = raw_request(url, raw)
        assert 400 <= status < 500, raw
        assert headers.get_content_type() == "application/json", raw
        assert b"script" not in body and json.loads(body)["error"], raw
        assert headers["Server"] == "beat-the-ai", raw
    status, headers, _ = raw_request(url, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (status, headers["Server"]) == (200, "beat-the-ai")


def test_a_client_that_sends_less_than_it_announced_gets_a_408(own_server):
    url, _ = own_server
    started = time.monotonic()
    status, headers, body = raw_request(url, b"GET /health HTTP/1.1\r\nHost: x\r\n"
                                             b"Content-Length: 100\r\n\r\nabc")
    assert (status, headers.get_content_type()) == (408, "application/json")
    assert json.loads(body)["error"] == "the request body did not arrive within 1s"
    assert time.monotonic() - started < 5
