"""Inputs that cannot hurt the dashboard: the real app under gunicorn, attacked over HTTP.

Every callback body is checked before Dash sees it (``dashboard.guard``): wrong shapes, wrong
types, forged or huge session ids, oversized and lying bodies, unparsable requests. Each gets
a JSON 4xx, never a 5xx or a hang, and stores nothing. The back-ends are left down on purpose:
what is tested here must not need them.
"""
from __future__ import annotations

import json
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import guard
from devtools.launcher import descendants
from devtools.servers import closed_url, free_port, service
from stack.settings import Settings as StackSettings
from tests.callbacks import body_for, offline_app, post
from tests.hostile import pid_listening, rss_bytes

SOCKET_TIMEOUT_S = 3  # gunicorn_conf's bound on a silent client, short for the test
SID = "0123456789abcdef" * 2


@pytest.fixture(scope="module")
def dash_url(tmp_path_factory) -> Iterator[str]:
    """The dashboard as ``make play`` runs it, with every back-end down."""
    port = free_port()
    argv = StackSettings(dashboard_host="127.0.0.1", dashboard_port=port).dashboard_argv()
    env = {"DASHBOARD_MODEL_URL": closed_url(), "DASHBOARD_EXPLAINER_URL": closed_url(),
           "DASHBOARD_IMAGE_SERVER_URL": closed_url(),
           "DASHBOARD_STORE_DIR": str(tmp_path_factory.mktemp("games")),
           "DASHBOARD_DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('stats')}/s.sqlite3",
           "DASHBOARD_SOCKET_TIMEOUT": str(SOCKET_TIMEOUT_S)}
    with service(argv, env, "/health", port) as url:
        yield url


@pytest.fixture(scope="module")
def callbacks(dash_url: str) -> list[dict]:
    with urllib.request.urlopen(dash_url + "/_dash-dependencies", timeout=10) as r:
        return json.load(r)


def raw(url: str, data: bytes, wait: float = 30) -> tuple[bytes, float]:
    """Send raw bytes; (the first bytes of the answer, seconds until it came)."""
    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port))) as s:
        s.sendall(data)
        s.settimeout(wait)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer, time.monotonic() - started


def assert_json_4xx(status: int, content_type: str, body: bytes) -> dict:
    assert 400 <= status < 500, (status, body[:200])
    assert content_type.startswith("application/json"), content_type
    return json.loads(body)


def test_every_value_a_callback_reads_has_a_declared_type(tmp_path):
    """A new callback must say what its inputs may hold, or every request to it is a 400."""
    app = offline_app(tmp_path, store_url="", store_dir=tmp_path)
    for callback in app.callback_map.values():
        for dependency in callback["inputs"] + callback["state"]:
            assert guard.prop_check(dependency["id"], dependency["property"]), dependency


def test_a_valid_visit_is_answered_and_a_forged_session_is_refused(dash_url, callbacks):
    show = next(c for c in callbacks if c["inputs"][0]["id"] == "url")
    status, _, body = post(dash_url, json.dumps(body_for(
        show, {"url.pathname": "/", "session.data": SID})).encode())
    assert status == 200 and b'"play-easy"' in body
    for forged in (None, "", "x" * 31, SID.upper(), SID + "0", ["a"], {"a": 1}, 7):
        answer = assert_json_4xx(*post(dash_url, json.dumps(body_for(
            show, {"url.pathname": "/", "session.data": forged})).encode()))
        assert answer == {"error": "invalid value for session.data", "reset": "session"}


@pytest.mark.parametrize("body, content_type", [
    (b"{not json", "application/json"),
    (b"[" * 50_000 + b"]" * 50_000, "application/json"),
    (b"[1, 2]", "application/json"),
    (b'{"output": "nope"}', "application/json"),
    (b'{"output": 5}', "application/json"),
    (b"\xff\xfe\x00", "application/json"),
    (b"{}", "text/plain"),
])
def test_malformed_callback_bodies_are_json_4xx(dash_url, body, content_type):
    assert_json_4xx(*post(dash_url, body, content_type))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_callbacks_never_get_a_server_error(dash_url, callbacks, data):
    """Any callback, any value in any slot, any key dropped or replaced: never a 5xx."""
    callback = data.draw(st.sampled_from(callbacks))
    names = [f"{d['id']}.{d['property']}" for d in callback["inputs"] + callback["state"]]
    values = {name: data.draw(json_values, label=name) for name in names}
    body = body_for(callback, values)
    if data.draw(st.booleans(), label="mangle"):
        key = data.draw(st.sampled_from(sorted(body)), label="key")
        if data.draw(st.booleans(), label="drop"):
            del body[key]
        else:
            body[key] = data.draw(json_values, label="replacement")
    status, content_type, answer = post(dash_url, json.dumps(body).encode())
    assert status < 500, (status, answer[:300])
    if status >= 400:
        assert content_type.startswith("application/json")
        assert set(json.loads(answer)) <= {"error", "reset"}


def test_huge_session_ids_are_refused_without_growing_the_dashboard(dash_url, callbacks):
    """10 callbacks carrying 20 MB session ids: refused as too large, < 20 MB growth."""
    [worker] = descendants(pid_listening(dash_url))  # gunicorn's master has one worker
    before = rss_bytes(worker)
    show = next(c for c in callbacks if c["inputs"][0]["id"] == "url")
    huge = json.dumps(body_for(show, {"url.pathname": "/", "session.data": "a" * 20_000_000}))
    head = (f"POST {guard.CALLBACK_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
            f"\r\nContent-Length: {len(huge)}\r\n\r\n").encode()
    for _ in range(10):
        try:
            answer, _ = raw(dash_url, head + huge.encode(), wait=10)
        except (BrokenPipeError, ConnectionResetError):  # refused before all was sent
            continue
        assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert rss_bytes(worker) - before < 20 * 1024 * 1024


def test_a_client_that_sends_less_than_it_announced_gets_an_error_in_time(dash_url):
    answer, seconds = raw(dash_url, (
        f"POST {guard.CALLBACK_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n{\"output\":").encode())
    assert answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 408")), answer[:100]
    assert seconds < SOCKET_TIMEOUT_S + 5


def test_a_client_that_never_finishes_its_headers_is_let_go(dash_url):
    answer, seconds = raw(dash_url, b"GET / HTTP/1.1\r\nHost: x\r\n")
    assert answer == b"" and seconds < SOCKET_TIMEOUT_S + 5


@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
    b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\n\r\n",
])
def test_unparsable_requests_are_json_without_an_echo(dash_url, request_bytes):
    answer, _ = raw(dash_url, request_bytes, wait=10)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 4"), answer[:100]
    assert b"Content-Type: application/json" in head
    assert b"GARBAGE" not in answer and b"aaaa" not in answer


def test_health_wrong_methods_and_health_answer_json(dash_url):
    with urllib.request.urlopen(dash_url + "/health", timeout=5) as r:
        assert json.load(r)["status"] == "ok"
    request = urllib.request.Request(dash_url + guard.CALLBACK_PATH, method="DELETE")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=5)
    assert error.value.code == 405
    assert json.load(error.value) == {"error": "Method Not Allowed"}


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'{"session": null}', b'{"session": "x"}',
                                  b'{"session": ["' + SID.encode() + b'"]}'])
def test_abandoning_needs_a_session_id(dash_url, body):
    request = urllib.request.Request(dash_url + "/api/abandon", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=5)
    assert error.value.code == 400 and "error" in json.load(error.value)


def test_abandoning_a_session_without_a_game_changes_nothing(dash_url):
    request = urllib.request.Request(dash_url + "/api/abandon", method="POST",
                                     data=json.dumps({"session": SID}).encode())
    with urllib.request.urlopen(request, timeout=5) as r:
        assert r.status == 204


@pytest.mark.parametrize("path", [
    "/_dash-component-suites/dash/__init__.py",  # a module's source, not a registered script
    "/_dash-component-suites/flask/app.py",  # a package Dash never registered
    "/_dash-component-suites/dash/../../dashboard/settings.py",
    "/_dash-component-suites/dash/%2e%2e/%2e%2e/dashboard/settings.py",
    "/_dash-component-suites/dash/dash_table/../../flask/app.py",
    "/_dash-component-suites/dash/deps/..%2f..%2f__init__.py",
    "/_dash-component-suites/nope/x.js",
])
def test_unknown_component_suite_paths_are_a_json_404(dash_url, path):
    """Only the scripts Dash registered are served; anything else under the suites' prefix
    is unknown, as any other path: a JSON 404, never a 500 and never a file."""
    answer, _ = raw(dash_url, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .encode())
    head, _, _ = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404"), head[:200]
    assert b"application/json" in head.lower()


def test_a_registered_script_is_still_served(dash_url):
    """The 404s above are not everything under the prefix: the page's own scripts load."""
    with urllib.request.urlopen(dash_url + "/", timeout=10) as r:
        page = r.read().decode()
    script = next(src for src in re.findall(r'src="([^"]+)"', page)
                  if "/_dash-component-suites/" in src)
    with urllib.request.urlopen(dash_url + script, timeout=10) as r:
        assert r.status == 200 and r.read()


@pytest.mark.parametrize("chunks", [b"zz\r\nabc\r\n0\r\n\r\n", b"3\r\nabcXX0\r\n\r\n",
                                    b"-1\r\n\r\n"])
def test_a_malformed_chunked_body_is_a_json_400(dash_url, chunks):
    """A chunked body gunicorn cannot read is the client's fault: a JSON 400, not a 500."""
    answer, _ = raw(dash_url, b"POST " + guard.CALLBACK_PATH.encode() + b" HTTP/1.1\r\n"
                    b"Host: x\r\nContent-Type: application/json\r\n"
                    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks)
    head, _, _ = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), head[:200]
    assert b"application/json" in head.lower()


def test_a_clientside_callback_posted_to_the_server_is_a_json_400(dash_url, callbacks):
    """``<html lang>`` follows the language in the page (a clientside callback): the server
    has no function for it, so a request for it is an unknown callback, not a 500."""
    clientside = next(c for c in callbacks if c["output"].startswith("html-lang."))
    status, content_type, body = post(dash_url, json.dumps(body_for(
        clientside, {"language.data": "de"})).encode())
    assert status == 400 and content_type.startswith("application/json"), body
    assert json.loads(body) == {"error": "unknown callback"}
