"""The HTTP side of the API: a threading HTTP server that speaks JSON.

Turns each HTTP request into a ``urlmap.Request``, dispatches it, and writes
the ``urlmap.Response`` back as JSON; errors become Neutron-style bodies.
"""

from __future__ import annotations

import http.server
import json
import logging
import socket
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any

from neutrino.server.api.urlmap import Request, Response, UrlMap
from neutrino.server.lib import errors

LOG = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-OpenStack-Request-Id"


def _error_response(error: errors.ApiError) -> Response:
    return Response(error.status, error.body())


def handle(urls: UrlMap, request: Request) -> Response:
    """Dispatch ``request``; never raises, every failure becomes an error body."""
    try:
        return urls.dispatch(request)
    except errors.ApiError as error:
        return _error_response(error)
    except Exception:
        LOG.exception("%s %s failed", request.method, request.path)
        return _error_response(errors.ApiError(
            "Request failed: internal server error while processing your request."))


class _Handler(http.server.BaseHTTPRequestHandler):
    # Keep-alive: clients that reuse a connection save a TCP handshake per call.
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one segment, and without Nagle's delay: on a
    # kept-alive connection a split response waited ~40 ms for a delayed ACK.
    wbufsize = -1
    disable_nagle_algorithm = True
    server_version = "neutrino-server"
    # Set on the subclass made for each server.
    urls: UrlMap
    on_request_done: Callable[[], None]

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        started = time.monotonic()
        # As Neutron does: clients (keystoneauth) log this id with each call,
        # so a client's log line can be matched with the server's.
        request_id = f"req-{uuid.uuid4()}"
        # Read the whole body first, even for a request that will fail, so
        # the next request on this connection starts where it should.
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            response = self._respond(raw)
        finally:
            self.on_request_done()
        self._write(response, request_id)
        LOG.info("%s %s %d (%.1f ms) %s", self.command, self.path, response.status,
                 (time.monotonic() - started) * 1000, request_id)

    def _respond(self, raw: bytes) -> Response:
        url = urllib.parse.urlsplit(self.path)
        host = self.headers.get("Host") or self._server_host()
        request = Request(method=self.command, path=url.path,
                          query=urllib.parse.parse_qs(url.query, keep_blank_values=True),
                          base_url=f"http://{host}")
        if raw:
            try:
                request.body = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                return _error_response(errors.BadRequest(f"Malformed request body: {error}"))
        return handle(self.urls, request)

    def _server_host(self) -> str:
        address: Any = self.server.server_address
        return f"{address[0]}:{address[1]}"

    def _write(self, response: Response, request_id: str) -> None:
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header(REQUEST_ID_HEADER, request_id)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # The base class prints to stderr unformatted; _serve logs each request.
        LOG.debug("%s - " + format, self.address_string(), *args)


class ApiServer:
    """Serves ``urls`` on (host, port) from a background thread."""

    def __init__(self, urls: UrlMap, host: str, port: int,
                 on_request_done: Callable[[], None] = lambda: None):
        handler = type("ApiHandler", (_Handler,), {
            "urls": urls, "on_request_done": staticmethod(on_request_done)})
        # socketserver's listen backlog is 5: a burst of parallel clients (a
        # test creating ports from many threads) got connections reset.
        attributes: dict[str, Any] = {"request_queue_size": 128}
        if ":" in host:
            attributes["address_family"] = socket.AF_INET6
        server_class = type("ApiHttpServer", (http.server.ThreadingHTTPServer,), attributes)
        self._httpd: http.server.ThreadingHTTPServer = server_class((host, port), handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        host = str(host)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> None:
        # stop() waits up to one poll interval for the serving loop to notice.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        name="api-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()
