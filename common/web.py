"""What every aiohttp service shares: JSON errors (down to the HTTP parser's), bounded body
reads, no version banner, and a clean start/stop."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from functools import partial
from http import HTTPStatus

from aiohttp import hdrs, web
from aiohttp.web_protocol import RequestHandler, RequestPayloadError

from common.logs import AccessLogger

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]

SERVER_NAME = "beat-the-ai"  # the `Server` header of every answer: no versions for attackers
SHUTDOWN_TIMEOUT_S = 10.0


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """Errors cross service boundaries as ``{"error": "..."}`` (TF Serving does the same)."""
    return web.json_response({"error": message}, status=status, headers=headers)


def _closing_error(status: int, message: str) -> web.Response:
    """An error after which the connection cannot be trusted (its bytes are out of step)."""
    response = json_error(status, message)
    response.force_close()
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every HTTP error, and any crash, into a JSON body; the server keeps serving."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
        allow = {hdrs.ALLOW: exc.headers[hdrs.ALLOW]} if hdrs.ALLOW in exc.headers else None
        return json_error(exc.status, message, allow)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal server error")


def read_body_within(timeout: float) -> Middleware:
    """A middleware that reads each request's whole body before its handler runs, within
    ``timeout`` seconds.

    aiohttp waits for an announced body for ever, so a client that announces more than it
    sends would hold a connection and a handler without end. Reading here bounds that once for
    every route (the handler's own ``request.read()`` gets the bytes already read). A body
    that cannot be decoded (a bad ``Content-Encoding``, broken chunks) is a 400 here too;
    ``client_max_size`` still applies to the decoded bytes (413).
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists:
            try:
                async with asyncio.timeout(timeout):
                    await request.read()
            except TimeoutError:
                return _closing_error(408, f"the request body did not arrive within {timeout:g}s")
            except RequestPayloadError:
                return _closing_error(400, "the request body could not be read: its "
                                           "Content-Encoding or chunked framing is broken")
        return await handler(request)

    return middleware


async def _around_the_app(request: web.Request, handler: Handler) -> web.StreamResponse:
    """What aiohttp does before an app's middlewares run (routing, the ``Expect`` check),
    answered like the rest: its own answer to an unknown ``Expect`` is text/plain that echoes
    the header, and a 500 when the header is not UTF-8."""
    expect = request.headers.get(hdrs.EXPECT)
    if expect is not None and expect.lower() != "100-continue":
        return json_error(417, "the only Expect understood is 100-continue")
    return await error_middleware(request, handler)


class _JsonProtocol(RequestHandler):
    """aiohttp's connection handler, answering in JSON what never reaches an app.

    aiohttp answers the HTTP parser's errors (a bad request line or header, headers too long)
    here, as text/plain that echoes the request. Every answer also gets the fixed ``Server``
    header instead of aiohttp's and Python's versions.
    """

    def handle_error(self, request, status=500, exc=None, message=None) -> web.StreamResponse:
        if status >= 500:
            super().handle_error(request, status, exc, message)  # logs the traceback
        elif request.writer.output_size > 0:  # as aiohttp does: too late for another answer
            raise ConnectionError("an answer was already under way")
        else:  # a client's mistake (or a scanner): one line, not a traceback per request
            log.info("malformed request refused", extra={"status": status,
                                                         "reason": type(exc).__name__})
        phrase = "malformed HTTP request" if status == 400 else HTTPStatus(status).phrase.lower()
        return _closing_error(status, phrase)

    async def finish_response(self, request, resp, start_time):
        resp.headers[hdrs.SERVER] = SERVER_NAME
        return await super().finish_response(request, resp, start_time)


class _JsonServer(web.Server):
    def __call__(self) -> RequestHandler:  # the asyncio protocol factory
        return _JsonProtocol(self, loop=self._loop, **self._kwargs)


class _Runner(web.AppRunner):
    """``AppRunner`` with the server above around the app (the runner's one extension point;
    ``_kwargs`` are the handler settings the app gave its own server)."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return _JsonServer(partial(_around_the_app, handler=server.request_handler),
                           request_factory=server.request_factory,
                           handler_cancellation=server.handler_cancellation,
                           loop=asyncio.get_running_loop(), **server._kwargs)


async def _serve(app: web.Application, host: str, port: int) -> None:
    runner = _Runner(app, handle_signals=True, access_log_class=AccessLogger,
                     shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def run(app: web.Application, host: str, port: int) -> None:
    """Serve until SIGINT/SIGTERM, then finish in-flight requests and run cleanup hooks.

    What ``web.run_app`` does, which has no way to take the runner above.
    """
    with suppress(web.GracefulExit, KeyboardInterrupt):
        asyncio.run(_serve(app, host, port))
