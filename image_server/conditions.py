"""The conditional and range requests a photo is refused for, decided before ``FileResponse``.

aiohttp's ``FileResponse`` answers a failed precondition (412) and an unsatisfiable range
(416) with an empty body, and decides so inside its own ``prepare``, too late for any JSON.
Errors are JSON everywhere in the project, so the same two decisions are made here first,
the way ``FileResponse`` makes them, on the same ``stat`` of the file.
"""
from __future__ import annotations

import os

from aiohttp import web

from common.web import json_error


def _etag(stat: os.stat_result) -> str:
    return f"{stat.st_mtime_ns:x}-{stat.st_size:x}"  # FileResponse's ETag for the file


def _precondition_fails(request: web.Request, stat: os.stat_result) -> bool:
    if (tags := request.if_match) is not None:
        if len(tags) == 1 and tags[0].value == "*":
            return False
        return not any(t.value == _etag(stat) and not t.is_weak for t in tags)
    since = request.if_unmodified_since
    return since is not None and stat.st_mtime > since.timestamp()


def _range_unsatisfiable(request: web.Request, stat: os.stat_result) -> bool:
    if (when := request.if_range) is not None and stat.st_mtime > when.timestamp():
        return False  # the photo changed since: FileResponse ignores the Range and sends it all
    try:
        wanted = request.http_range
    except ValueError:
        return True
    tail = wanted.start is not None and wanted.start < 0 and wanted.stop is None
    return wanted.start is not None and not tail and wanted.start >= stat.st_size


def refusal(request: web.Request, stat: os.stat_result) -> web.Response | None:
    """The JSON 412 or 416 for this request of the file, or None when it can be served."""
    if _precondition_fails(request, stat):
        return json_error(412, "the photo does not match the request's If-Match or "
                               "If-Unmodified-Since")
    if _range_unsatisfiable(request, stat):
        return json_error(416, "the Range cannot be satisfied: one range of bytes=first-last "
                               "within the photo", {"Content-Range": f"bytes */{stat.st_size}"})
    return None
