"""``GET /operator/export/<what>.csv?from=YYYY-MM-DD&to=YYYY-MM-DD``: the stand's games, rounds
and /upload verdicts as a CSV file that opens in a spreadsheet, for the operator only.

The console links to it, so the browser opens it as a navigation: no ``Origin`` header, so the
guard's same-origin check does not fit. Instead ``Sec-Fetch-Site`` must be absent (an older
browser, a script) or say the request came from our own page or the address bar; another
site's request carries no session anyway (the cookie is ``SameSite=Strict``). The session is
checked on the server for every request, and every export goes to the audit trail.
"""
from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import flask
from sqlalchemy.exc import SQLAlchemyError

from dashboard import metrics
from dashboard.errors import json_error
from dashboard.operator import web
from dashboard.operator.auth import OperatorAuth
from dashboard.stats import export
from dashboard.stats.queries import Stats

log = logging.getLogger("dashboard.operator")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_DAYS = 366
SITES = ("same-origin", "none")  # Sec-Fetch-Site values we serve; absent is served too
FORMULA = ("=", "+", "-", "@", "\t", "\r")  # how a cell a spreadsheet would run starts
BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only with it
LINES_PER_CHUNK = 500


class BadRange(ValueError):
    """A ``from``/``to`` the export refuses; the message says why, for the JSON 400."""


def blueprint(auth: OperatorAuth, stats: Stats) -> flask.Blueprint:
    """The export route, checking the console, the request's site and the session first."""
    routes = flask.Blueprint("operator_export", __name__)

    @routes.get("/operator/export/<what>.csv")
    def download(what: str) -> flask.Response:
        request = flask.request
        if not auth.enabled:
            return json_error(403, "the operator console is off")
        if not web.here(auth, request):
            return json_error(403, "the operator console is not served on this port")
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in SITES:
            return json_error(403, "requests from another site are refused")
        try:
            if not auth.signed_in(request.cookies.get(web.COOKIE)):
                return json_error(401, "sign in to the operator console first")
            if what not in export.EXPORTS:
                return json_error(404, f"no such export: one of {', '.join(export.EXPORTS)}")
            try:
                first, last = day_range(request.args.get("from"), request.args.get("to"))
            except BadRange as exc:
                return json_error(400, str(exc))
            span = f"{first or 'start'}..{last or 'end'}"
            auth.audit(web.address(request), "export", f"{what} {span}")
            chunks = csv_chunks(export.EXPORTS[what].header,
                                export.rows(stats.engine, what, first, last))
            head = next(chunks)  # the first page read here: a failing database is a 503
        except SQLAlchemyError:
            log.exception("statistics unavailable")
            metrics.database_errors.inc()
            response = json_error(503, "statistics unavailable")
            response.headers["Retry-After"] = "5"
            return response
        name = f"beat-the-ai-{what}-{first or 'start'}-{last or 'end'}.csv"
        return flask.Response(flask.stream_with_context(_stream(head, chunks)), headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        })

    return routes



def day_range(raw_first: str | None, raw_last: str | None) -> tuple[date | None, date | None]:
    """``from`` and ``to`` as dates (None: no bound); ``BadRange`` for a malformed date, ``from``
    after ``to`` or more than ``MAX_DAYS`` days (all time, unbounded, is allowed)."""
    first, last = _day("from", raw_first), _day("to", raw_last)
    if first is not None and last is not None:
        if first > last:
            raise BadRange("from must not be after to")
        if (last - first).days + 1 > MAX_DAYS:
            raise BadRange(f"a range covers at most {MAX_DAYS} days")
    return first, last


def _day(name: str, raw: str | None) -> date | None:
    if raw is None or raw == "":
        return None
    try:
        if not DAY.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRange(f"{name} must be a date as YYYY-MM-DD") from None


def cell(value: Any) -> str | int | float:
    """One value as a spreadsheet reads it: timestamps ISO 8601 in UTC, booleans as
    true/false, None empty, and text a spreadsheet would run as a formula prefixed with ``'``
    (guesses and AI answers come from outside: CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA) else text


class _Echo:
    """A file for ``csv.writer`` that hands each line back instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV as UTF-8 chunks: the BOM and the header, then the rows a few hundred lines at a
    time, ``\\r\\n`` line ends, quoted by the ``csv`` module."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    lines = [BOM + writer.writerow(header)]
    for row in rows:
        lines.append(writer.writerow([cell(value) for value in row]))
        if len(lines) >= LINES_PER_CHUNK:
            yield "".join(lines).encode()
            lines = []
    yield "".join(lines).encode()


def _stream(head: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``head``, then the rest; a database failing mid-download breaks the download (the
    status is sent already) rather than end a file that looks complete."""
    try:
        yield head
        yield from chunks
    except SQLAlchemyError:
        log.exception("statistics failed during an export")
        metrics.database_errors.inc()
        raise
    finally:
        chunks.close()
