"""The https source: exports kept in an artifact store, fetched with ``requests``.

Handles references that start with ``https://`` (and ``http://`` only when allowed). Configured by
``sources.https`` (every key optional)::

    sources:
      https:
        timeout_seconds: 10        # connect, and each wait for the next bytes
        total_timeout_seconds: 300 # the whole fetch: every attempt, redirect and wait
        max_attempts: 3            # connection errors, timeouts, truncated bodies, 429 and 5xx
        backoff_seconds: 0.5       # doubled after each failed attempt
        max_delay_seconds: 30      # caps the backoff and a server's Retry-After
        max_bytes: 536870912       # default: sources.max_bytes, else 512 MiB
        allow_http: false
        allowed_hosts: [artifacts.example.com]   # when present, every other host is refused
        tokens:                    # host (or host:port) -> NAME of the variable holding a token
          artifacts.example.com: GOVGATE_ARTIFACT_TOKEN
        sha256:                    # the reference exactly as written -> expected digest
          https://artifacts.example.com/w45/scheduler_runs.csv: sha256:3f0c...

A failed fetch raises :class:`~govgate.errors.SourceError` (exit code 2): a failed load is never a
pass. Messages name the URL by its source name (its query string replaced by ``?<redacted>``, no
user-info), and never contain a token,
whatever the server sends back: they quote no exception text and no response body, only what
govgate itself decided.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urljoin, urlsplit

from .. import __version__
from ..errors import SourceError
from ..hookspecs import hookimpl
from ..httpretry import retry_after, retry_delay
from .deadline import Deadline, DeadlineExceeded, watched_session
from .files import DEFAULT_MAX_BYTES
from .names import source_name

if TYPE_CHECKING:
    import requests

__all__ = ["HttpsSettings", "fetch", "govgate_read_source", "public_url"]

_log = logging.getLogger(__name__)
# Indirection so tests can observe backoff delays without waiting for them.
_sleep = time.sleep
_clock = time.monotonic

#: Same-origin redirects followed per attempt; more is a loop or a misconfigured store.
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEX64 = re.compile(r"^(?:sha256:)?([0-9a-fA-F]{64})$")
# RFC 6750 b64token, so a token can never smuggle a header line or a space into the request.
_TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")
_KEYS = frozenset({
    "timeout_seconds", "total_timeout_seconds", "max_attempts", "backoff_seconds",
    "max_delay_seconds", "max_bytes",
    "allow_http", "allowed_hosts", "tokens", "sha256",
})


def public_url(url: str) -> str:
    """``scheme://host[:port]/path[?<redacted>]``: what a message may say about ``url``.

    The query string (signed URLs carry their signature there), the fragment and any user-info
    are left out (see :func:`~govgate.sources.names.source_name`).
    """
    return source_name(url)


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    """Scheme, host and effective port: two URLs may share a token only when these agree."""
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a port that is not a number; such a URL matches nothing
        port = -1
    return scheme, (parts.hostname or "").lower(), port or {"https": 443, "http": 80}.get(scheme)


def _fail(key: str, message: str) -> SourceError:
    return SourceError(message, source="sources", where=f"https.{key}")


# No slots: ``from_settings`` reads the defaults from the class attributes.
@dataclass(frozen=True)
class HttpsSettings:
    """The validated ``sources.https`` mapping."""

    timeout_seconds: float = 10.0
    #: Bounds the whole fetch (a server that sends a byte a second never trips a read timeout).
    total_timeout_seconds: float = 300.0
    max_attempts: int = 3
    backoff_seconds: float = 0.5
    max_delay_seconds: float = 30.0
    max_bytes: int = DEFAULT_MAX_BYTES
    allow_http: bool = False
    #: Lower-cased host names; None allows every host.
    allowed_hosts: frozenset[str] | None = None
    #: ``host`` or ``host:port`` (lower-cased) -> environment variable name.
    tokens: Mapping[str, str] | None = None
    #: Reference as written -> lower-case hex digest.
    sha256: Mapping[str, str] | None = None

    @classmethod
    def from_settings(cls, sources: Mapping[str, Any]) -> HttpsSettings:
        """Validate ``sources.https``; raise :class:`SourceError` naming the bad key.

        The configuration schema checks the same shape; this repeats it for library callers
        that invoke the hook with settings of their own.
        """
        raw = sources.get("https") or {}
        if not isinstance(raw, Mapping):
            raise SourceError("expected a mapping", source="sources", where="https")
        unknown = sorted(set(raw) - _KEYS)
        if unknown:
            raise _fail(unknown[0], f"unknown key (expected one of {sorted(_KEYS)})")

        def number(key: str, default: float, *, positive: bool = False) -> float:
            value = raw.get(key, default)
            ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
            if not ok or (positive and value == 0):
                raise _fail(key, f"expected a number {'> 0' if positive else '>= 0'}, "
                                 f"got {value!r}")
            return float(value)

        def integer(key: str, default: int, low: int, high: int) -> int:
            value = raw.get(key, default)
            if type(value) is not int or not low <= value <= high:
                raise _fail(key, f"expected an integer from {low} to {high}, got {value!r}")
            return value

        allow_http = raw.get("allow_http", False)
        if not isinstance(allow_http, bool):
            raise _fail("allow_http", f"expected true or false, got {allow_http!r}")
        hosts = raw.get("allowed_hosts")
        if hosts is not None and (
            not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts)
        ):
            raise _fail("allowed_hosts", "expected a list of host names")
        tokens = raw.get("tokens") or {}
        if not isinstance(tokens, Mapping):
            raise _fail("tokens", "expected a mapping of host to environment variable name")
        for host, env in tokens.items():
            if not isinstance(env, str) or not _ENV_NAME.match(env):
                raise _fail(f"tokens.{host}",
                            f"expected an environment variable name, got {env!r}")
        digests = raw.get("sha256") or {}
        if not isinstance(digests, Mapping):
            raise _fail("sha256", "expected a mapping of URL to sha256 digest")
        expected: dict[str, str] = {}
        for url, digest in digests.items():
            match = _HEX64.match(digest) if isinstance(digest, str) else None
            if match is None:
                # The key may be a signed URL: name it without its query string.
                raise _fail(f"sha256[{public_url(str(url))}]",
                            "expected 64 hex digits, optionally prefixed with 'sha256:'")
            expected[str(url)] = match.group(1).lower()
        # One limit for every source unless the https source sets its own.
        file_limit = sources.get("max_bytes", DEFAULT_MAX_BYTES)
        if type(file_limit) is not int or file_limit < 1:
            file_limit = DEFAULT_MAX_BYTES
        return cls(
            timeout_seconds=number("timeout_seconds", cls.timeout_seconds, positive=True),
            total_timeout_seconds=number("total_timeout_seconds", cls.total_timeout_seconds,
                                         positive=True),
            max_attempts=integer("max_attempts", cls.max_attempts, 1, 10),
            backoff_seconds=number("backoff_seconds", cls.backoff_seconds),
            max_delay_seconds=number("max_delay_seconds", cls.max_delay_seconds),
            max_bytes=integer("max_bytes", file_limit, 1, 2**62),
            allow_http=allow_http,
            allowed_hosts=None if hosts is None else frozenset(h.lower() for h in hosts),
            tokens={str(h).lower(): env for h, env in tokens.items()},
            sha256=expected,
        )

    def token_for(self, url: str) -> str | None:
        """The bearer token for ``url``'s host, read from the variable the settings name."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        tokens = self.tokens or {}
        env = tokens.get(f"{host}:{parts.port}") if parts.port else None
        env = env or tokens.get(host)
        if env is None:
            return None
        token = os.environ.get(env, "").strip()
        if not token:
            raise SourceError(f"environment variable {env} is not set or empty; it must hold "
                              f"the token for {host}", source=public_url(url),
                              where="sources.https.tokens")
        if not _TOKEN.match(token):
            raise SourceError(f"environment variable {env} does not hold a bearer token "
                              "(letters, digits and -._~+/ then optional '=')",
                              source=public_url(url), where="sources.https.tokens")
        return token


@dataclass(frozen=True, slots=True)
class _Outcome:
    body: bytes | None
    retry: bool
    detail: str
    retry_after: float | None = None




def _status(code: int) -> str:
    # The standard phrase, never the server's: a reason phrase is text the server controls.
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def _read_body(response: requests.Response, cfg: HttpsSettings,
               cancelled: threading.Event | None = None) -> _Outcome:
    """Stream the body with the size cap; a body shorter than its Content-Length is truncated."""
    import urllib3

    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        # The digest and the size cap are about the bytes the store holds; identity was asked.
        return _Outcome(None, False, "the server sent an encoded body (Content-Encoding) "
                                     "although identity was requested")
    declared_text = response.headers.get("Content-Length")
    declared: int | None = None
    if declared_text is not None:
        if not (declared_text.strip().isascii() and declared_text.strip().isdigit()):
            return _Outcome(None, False, "the server sent an invalid Content-Length")
        declared = int(declared_text)
        if declared > cfg.max_bytes:
            return _Outcome(None, False, f"the body is {declared} bytes, above the limit of "
                                         f"{cfg.max_bytes} (sources.https.max_bytes)")
    body = bytearray()
    try:
        for chunk in response.raw.stream(_CHUNK, decode_content=False):
            if cancelled is not None and cancelled.is_set():  # the deadline passed
                return _Outcome(None, False, "cancelled")
            body += chunk
            if len(body) > cfg.max_bytes:
                return _Outcome(None, False, f"the body exceeds the limit of {cfg.max_bytes} "
                                             "bytes (sources.https.max_bytes)")
    except urllib3.exceptions.ReadTimeoutError:
        return _Outcome(None, True, f"timed out after {cfg.timeout_seconds:g} s reading the body")
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        if declared is not None and len(body) < declared:
            return _Outcome(None, True, f"truncated body: received {len(body)} of {declared} "
                                        "bytes")
        return _Outcome(None, True, f"connection broken reading the body ({type(exc).__name__})")
    if declared is not None and len(body) != declared:
        return _Outcome(None, True, f"truncated body: received {len(body)} of {declared} bytes")
    return _Outcome(bytes(body), False, _status(response.status_code))


def _attempt(session: requests.Session, url: str, headers: Mapping[str, str],
             cfg: HttpsSettings, cancelled: threading.Event) -> _Outcome:
    """One GET, following redirects that stay on the URL's own scheme, host and port."""
    import requests

    origin = _origin(urlsplit(url))
    current = url
    timeout = cfg.timeout_seconds
    for _ in range(MAX_REDIRECTS + 1):
        try:
            # Redirects are followed here, not by requests: each target is checked first, so
            # the token is never sent to a host nobody configured.
            response = session.get(current, headers=dict(headers), timeout=(timeout, timeout),
                                   allow_redirects=False, stream=True)
        # Exception text quotes the URL (and so its query string): report the type only.
        except requests.exceptions.SSLError as exc:
            return _Outcome(None, False, f"TLS failed ({type(exc).__name__})")
        except requests.exceptions.Timeout as exc:
            return _Outcome(None, True, f"timed out after {timeout:g} s ({type(exc).__name__})")
        except requests.exceptions.ConnectionError as exc:
            return _Outcome(None, True, f"connection failed ({type(exc).__name__})")
        except requests.exceptions.RequestException as exc:
            return _Outcome(None, False, f"request failed ({type(exc).__name__})")
        with response:
            status = response.status_code
            if status in _REDIRECTS:
                location = response.headers.get("Location")
                if not location:
                    return _Outcome(None, False, f"{_status(status)} without a Location")
                target = urljoin(current, location)
                if _origin(urlsplit(target)) != origin:
                    # The target is not named: the server chose it, and could have put the
                    # token in it (in a host name, where case-insensitive echoes survive).
                    return _Outcome(None, False, f"{_status(status)} redirect to another "
                                                 "scheme, host or port refused")
                current = target
                continue
            if status == 200:
                return _read_body(response, cfg, cancelled)
            if status == 429 or status >= 500:
                return _Outcome(None, True, _status(status),
                                retry_after(response.headers.get("Retry-After")))
            return _Outcome(None, False, f"{_status(status)} (not retried)")
    return _Outcome(None, False, f"more than {MAX_REDIRECTS} redirects")


def _check_url(url: str, cfg: HttpsSettings) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced '[' around an IPv6 host, and the like
        raise SourceError("malformed URL", source=public_url(url)) from None
    if any(ord(c) < 0x20 or c in " \x7f" for c in url):
        raise SourceError("malformed URL: it contains a space or a control character",
                          source=public_url(url))
    scheme, host, port = _origin(parts)
    before_query = re.split(r"[?#]", url.partition("://")[2], maxsplit=1)[0]
    if "@" in before_query:
        # User-info. Any '@' before the query counts: unencoded, a '/' in a password ends the
        # authority early and turns the password into a host name or a path. So the message
        # names only what follows the last '@', up to the first '/'.
        site = before_query.rpartition("@")[2].partition("/")[0]
        raise SourceError("credentials in the URL are refused (they would be printed with it); "
                          "name a token variable in sources.https.tokens (write an '@' that "
                          "belongs to the path as %40)", source=f"{scheme}://{site}")
    if port == -1:
        raise SourceError("expected a numeric port", source=f"{scheme}://{host}")
    if scheme == "http" and not cfg.allow_http:
        raise SourceError("http:// is refused: the export could be altered in transit (set "
                          "sources.https.allow_http: true to allow it)", source=public_url(url))
    if not host:
        raise SourceError("expected a URL with a host", source=public_url(url))
    if cfg.allowed_hosts is not None and host not in cfg.allowed_hosts:
        raise SourceError(f"host {host} is not in sources.https.allowed_hosts",
                          source=public_url(url))


def fetch(url: str, cfg: HttpsSettings) -> bytes:
    """GET ``url`` with bounded retries and return its body, checked against the size cap,
    its Content-Length and the configured ``sha256``.

    :raises SourceError: When the body cannot be fetched or fails a check.
    """

    _check_url(url, cfg)
    token = cfg.token_for(url)
    headers = {
        "User-Agent": f"govgate/{__version__}",
        "Accept": "*/*",
        "Accept-Encoding": "identity",
    }
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"

    def message(text: str) -> str:
        # Belt and braces: nothing above quotes server text, but a token must never leak.
        return text.replace(token, "[redacted]") if token else text

    name = public_url(url)
    outcome = _Outcome(None, False, "not attempted")
    attempt = 0
    deadline: Deadline[_Outcome] = Deadline(cfg.total_timeout_seconds, clock=_clock)
    out_of_time = _Outcome(None, False, f"not complete within {cfg.total_timeout_seconds:g} s "
                                        "(sources.https.total_timeout_seconds)")
    with watched_session(deadline) as session:
        for attempt in range(1, cfg.max_attempts + 1):
            try:
                outcome = deadline.run(
                    lambda: _attempt(session, url, headers, cfg, deadline.cancelled))
            except DeadlineExceeded:
                outcome = out_of_time
                break
            if outcome.body is not None or not outcome.retry or attempt == cfg.max_attempts:
                break
            delay = retry_delay(attempt, outcome.retry_after, cfg.backoff_seconds,
                                cfg.max_delay_seconds)
            if delay >= deadline.remaining():
                outcome = out_of_time  # the next attempt could not finish in time
                break
            _log.warning("%s: attempt %d/%d failed: %s; retrying in %.2f s", name, attempt,
                         cfg.max_attempts, message(outcome.detail), delay)
            _sleep(delay)
    if outcome.body is None:
        noun = "attempt" if attempt == 1 else "attempts"
        raise SourceError(message(f"{outcome.detail} (after {attempt} {noun})"), source=name)
    expected = (cfg.sha256 or {}).get(url)
    if expected is not None:
        actual = hashlib.sha256(outcome.body).hexdigest()
        if actual != expected:
            raise SourceError(f"sha256 mismatch: expected sha256:{expected}, got sha256:{actual} "
                              "(the export changed or is not the one the config pins)",
                              source=name)
    return outcome.body


@hookimpl
def govgate_read_source(ref: str, settings: Mapping[str, Any]) -> bytes | None:
    """Fetch ``https://`` (and, when allowed, ``http://``) references; None for anything else."""
    scheme = ref.partition("://")[0].lower() if "://" in ref else ""
    if scheme not in ("https", "http"):
        return None
    return fetch(ref, HttpsSettings.from_settings(settings))
