"""A deadline for a whole download, not only for each read.

A read timeout bounds each wait for the next bytes; a server that sends one byte a second never
trips it, and a download (or a header, or a TLS handshake) can then last for days. The fetch
runs in a helper thread; the caller waits for it until the deadline and then gives up. Every
socket the fetch opened is shut down, which wakes the helper's blocked read at once, so the
thread ends and the connection is not left open.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import requests

__all__ = ["Deadline", "DeadlineExceeded", "watched_session"]

T = TypeVar("T")


class DeadlineExceeded(Exception):
    """The deadline passed before the work finished."""


class Deadline(Generic[T]):
    """``seconds`` from now; :meth:`run` calls a function within what is left of it."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._end = clock() + seconds
        self.cancelled = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return max(0.0, self._end - self._clock())

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the deadline passes (at once when it already has)."""
        with self._lock:
            self._sockets.append(sock)
            cancelled = self.cancelled.is_set()
        if cancelled:
            _shutdown(sock)

    def run(self, work: Callable[[], T]) -> T:
        """``work()``, or :class:`DeadlineExceeded` when it is not done in time.

        Exceptions of ``work`` are raised here, in the caller's thread.
        """
        box: list[Any] = []

        def target() -> None:
            try:
                box.append((True, work()))
            except BaseException as exc:  # handed to the caller
                box.append((False, exc))

        helper = threading.Thread(target=target, name="govgate-fetch", daemon=True)
        helper.start()
        helper.join(self.remaining())
        if helper.is_alive():
            self.cancel()
            helper.join(1.0)  # the shut-down sockets wake it; never wait long for it
            raise DeadlineExceeded
        ok, value = box[0]
        if not ok:
            raise value
        result: T = value
        return result

    def cancel(self) -> None:
        with self._lock:
            self.cancelled.set()
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    # socket.socket's own shutdown, also for an SSLSocket: it acts on the descriptor only and
    # leaves the TLS object (in use by the reading thread) alone.
    with contextlib.suppress(OSError):  # already closed, or detached
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def watched_session(deadline: Deadline[Any]) -> requests.Session:
    """A ``requests`` session whose every connection is watched by ``deadline``."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Plain(HTTPConnection):
        def connect(self) -> None:
            super().connect()
            deadline.watch(self.sock)

    # Watched once connected: during the TLS handshake the socket is out of reach, and a slow
    # handshake only keeps the abandoned helper thread busy (its read timeout still applies).
    class Secure(HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            deadline.watch(self.sock)

    class PlainPool(HTTPConnectionPool):
        ConnectionCls = Plain

    class SecurePool(HTTPSConnectionPool):
        ConnectionCls = Secure

    session = requests.Session()
    for prefix in ("https://", "http://"):
        adapter = HTTPAdapter()
        adapter.poolmanager.pool_classes_by_scheme = {"http": PlainPool, "https": SecurePool}
        session.mount(prefix, adapter)
    return session
