"""What every aiohttp service shares: JSON errors (down to the HTTP parser's), bounded body
reads, no version banner, and a clean start/stop."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
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


class _JsonProtocol(RequestHandler):
    """aiohttp's connection handler, answering what never reaches a middleware in JSON too.

    The HTTP parser's errors (a bad request line or header, headers too long) and the
    ``Expect`` check come from here, as text/plain that echoes the request; every answer also
    gets the fixed ``Server`` header instead of aiohttp's and Python's versions.
    """

    def handle_error(self, request, status=500, exc=None, message=None) -> web.StreamResponse:
        super().handle_error(request, status, exc, message)  # logs; raises if half sent
        phrase = "malformed HTTP request" if status == 400 else HTTPStatus(status).phrase.lower()
        return _closing_error(status, phrase)

    async def finish_response(self, request, resp, start_time):
        if (isinstance(resp, web.Response) and resp.status >= 400 and not resp.prepared
                and resp.content_type != "application/json"):
            resp = json_error(resp.status, resp.reason or HTTPStatus(resp.status).phrase)
        resp.headers[hdrs.SERVER] = SERVER_NAME
        return await super().finish_response(request, resp, start_time)


class _JsonServer(web.Server):
    def __call__(self) -> RequestHandler:  # the asyncio protocol factory
        return _JsonProtocol(self, loop=self._loop, **self._kwargs)


class _Runner(web.AppRunner):
    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return _JsonServer(server.request_handler, request_factory=server.request_factory,
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

    What ``web.run_app`` does, with the JSON-answering connection handler above.
    """
    with suppress(web.GracefulExit, KeyboardInterrupt):
        asyncio.run(_serve(app, host, port))
