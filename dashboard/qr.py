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

from dashboard.i18n import _
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


def typed(url: str) -> str:
    """``url`` as a visitor types it: without ``http://`` and a lone trailing ``/``."""
    bare = url.split("://", 1)[-1]
    return bare[:-1] if bare.endswith("/") and bare.count("/") == 1 else bare


def _code(data: str, id_: str, alt: str, title: str, lines: list[str]) -> html.Figure:
    """One code with its caption: what it does, then the same in words one can type."""
    return html.Figure(className="phone-code", children=[
        qr_image(data, alt, id=id_, className="phone-qr"),
        html.Figcaption(id=f"{id_}-caption", children=[
            html.Strong(title, className="phone-code-title"),
            *(html.Span(line, className="phone-code-text") for line in lines)]),
    ])


def phone_codes(settings: Settings) -> html.Div:
    """The way onto a visitor's own phone, as the start page, the attract screen and the wall
    show it: the stand's Wi-Fi (``wifi-qr``) when it has one, then the game (``play-qr``),
    each code captioned with what it does and its address (network and password) in words."""
    codes = []
    if (wifi := wifi_data(settings)) is not None:
        lines = [settings.wifi_ssid]
        if settings.wifi_password:
            lines.append(_("Password: {password}").format(
                password=settings.wifi_password.get_secret_value()))
        codes.append(_code(wifi, "wifi-qr", _("QR code to join the Wi-Fi"), _("Join the Wi-Fi"),
                           lines))
    url = phone_url(settings, "/")
    codes.append(_code(url, "play-qr", _("QR code to play on your phone"),
                       _("Play on your phone"), [typed(url)]))
    return html.Div(codes, id="phone-codes", className="phone-codes")
