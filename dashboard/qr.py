"""QR codes drawn on the server, offline (segno): the phone's way to the game and to a show.

A phone on the stand's Wi-Fi cannot open ``localhost``: the address in a code is the
``play_url`` setting when set (the stand's address on its Wi-Fi), else the address the screen
itself was opened with. A second code can carry the Wi-Fi's own credentials (``WIFI:``), which
a phone's camera offers to join.
"""
from __future__ import annotations

from urllib.parse import urlencode, urljoin

import flask
import segno
from dash import html
from segno import helpers

from dashboard.settings import Settings


def phone_url(settings: Settings, path: str, **query: str) -> str:
    """The absolute address of ``path`` (with ``query``) as a phone on the stand opens it."""
    base = settings.play_url or flask.request.host_url
    url = urljoin(base if base.endswith("/") else base + "/", path.lstrip("/"))
    return f"{url}?{urlencode(query)}" if query else url


def wifi_data(settings: Settings) -> str | None:
    """The ``WIFI:`` text of the stand's network, or None when no network is set."""
    if not settings.wifi_ssid:
        return None
    password = settings.wifi_password.get_secret_value() if settings.wifi_password else None
    return helpers.make_wifi_data(settings.wifi_ssid, password,
                                  settings.wifi_security if password else "nopass")


def qr_image(data: str, alt: str, **kwargs: object) -> html.Img:
    """``data`` as a QR code: black on white with its quiet zone, an SVG that scales sharp to
    any size (a camera reads it from across the stand)."""
    code = segno.make(data, error="m", micro=False)
    src = code.svg_data_uri(scale=8, border=4, dark="#000", light="#fff")
    return html.Img(src=src, alt=alt, **{"data-qr": data}, **kwargs)
