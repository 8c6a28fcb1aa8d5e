"""A real HTTP server on 127.0.0.1 for tests: scripted responses, recorded requests.

Usage::

    with HTTPTestServer() as server:
        server.enqueue(Response(500), Response.json({"status": "success"}, status=202))
        requests.post(server.url("/v2/enqueue"), json={...})
        assert len(server.requests) == 2

Responses are taken, per request, from the queue of the request's path, then from the shared
queue, then from the path's default, then from the server default (404). Each response can be
delayed, truncated (``Content-Length`` promises more bytes than are sent, then the connection
closes), dripped (a byte at a time, slowly: no single read ever times out) or be a redirect.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["HTTPTestServer", "RecordedRequest", "Response"]


@dataclass(frozen=True)
class Response:
    """One scripted answer.

    ``delay`` waits that many seconds before the status line (a slow server); ``truncate_at``
    sends only that many body bytes while ``Content-Length`` announces the whole body; ``drip``
    sends the body one byte every ``drip`` seconds (with ``drip_headers``, the status line and
    headers too).
    """

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate_at: int | None = None
    drip: float = 0.0
    drip_headers: bool = False

    @classmethod
    def json(cls, value: Any, status: int = 200, **kwargs: Any) -> Response:
        """A JSON response."""
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        body = json.dumps(value).encode()
        return cls(status=status, body=body, headers=headers, **kwargs)

    @classmethod
    def text(cls, text: str, status: int = 200, **kwargs: Any) -> Response:
        """A plain-text (UTF-8) response."""
        headers = {"Content-Type": "text/plain; charset=utf-8", **kwargs.pop("headers", {})}
        return cls(status=status, body=text.encode(), headers=headers, **kwargs)

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Response:
        """A redirect to ``location`` (absolute URL or path)."""
        return cls(status=status, headers={"Location": location})


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the server received it. Header names are lower-cased."""

    method: str
    path: str  # with the query string
    headers: Mapping[str, str]
    body: bytes

    @property
    def route(self) -> str:
        """The path without the query string."""
        return urlsplit(self.path).path

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _handle(self) -> None:
        body = self._read_body()
        self.server.owner._record(
            RecordedRequest(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
        )
        response = self.server.owner._next_response(urlsplit(self.path).path)
        # Waiting on the stop event lets the server shut down without sitting out the delay.
        if response.delay and self.server.owner._stopping.wait(response.delay):
            self.close_connection = True
            return
        self.close_connection = True  # one request per connection keeps scripts in order
        try:
            if response.drip and response.drip_headers:
                self._drip(b"HTTP/1.1 %d OK\r\nContent-Length: %d\r\nConnection: close\r\n"
                           b"X-Slow: %s\r\n\r\n" % (response.status, len(response.body),
                                                   b"y" * 4096), response.drip)
                self._drip(response.body, response.drip)
                return
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                sent = response.body
                if response.truncate_at is not None:
                    sent = sent[: response.truncate_at]
                if response.drip:
                    self.wfile.flush()
                    self._drip(sent, response.drip)
                else:
                    self.wfile.write(sent)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to answer

    def _drip(self, data: bytes, seconds: float) -> None:
        """Send ``data`` a byte at a time, ``seconds`` apart, until the server stops."""
        for index in range(len(data)):
            self.wfile.write(data[index:index + 1])
            self.wfile.flush()
            if self.server.owner._stopping.wait(seconds):
                return

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log on stderr."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: HTTPTestServer


class HTTPTestServer:
    """A threaded HTTP server on 127.0.0.1 and an ephemeral port; use it as a context manager."""

    def __init__(self, *responses: Response, default: Response | None = None) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._queue: deque[Response] = deque(responses)
        self._path_queues: dict[str, deque[Response]] = {}
        self._path_defaults: dict[str, Response] = {}
        self._default = default or Response.text("not found\n", status=404)
        self._requests: list[RecordedRequest] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> HTTPTestServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bind and serve in a background thread."""
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        # A short poll interval keeps stop() (and so each test's teardown) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, wake delayed handlers and close the socket."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        """The ephemeral port the server listens on."""
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        """The absolute URL of ``path`` on this server."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def enqueue(self, *responses: Response, path: str | None = None) -> None:
        """Answer the next requests (to ``path``, or to any path) with ``responses``, in order."""
        with self._lock:
            if path is None:
                self._queue.extend(responses)
            else:
                self._path_queues.setdefault(path, deque()).extend(responses)

    def serve(self, path: str, response: Response) -> None:
        """Answer every request to ``path`` with ``response`` once its queue is empty."""
        with self._lock:
            self._path_defaults[path] = response

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_response(self, path: str) -> Response:
        with self._lock:
            queue = self._path_queues.get(path)
            if queue:
                return queue.popleft()
            if self._queue:
                return self._queue.popleft()
            return self._path_defaults.get(path, self._default)
