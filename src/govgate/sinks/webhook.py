"""The webhook sink: pages posted as PagerDuty Events API v2 events (``trigger``, ``resolve``).

Configured by ``paging.webhook``::

    webhook:
      url: https://events.example.com/v2/enqueue
      routing_key_env: GOVGATE_ROUTING_KEY   # the variable's NAME; the key itself stays secret
      timeout_seconds: 5                     # connect and read, each
      max_attempts: 3
      backoff_seconds: 0.5                   # doubled after each failed attempt
      max_delay_seconds: 30                  # caps the backoff and a server's Retry-After
      allow_http: false

Connection errors, timeouts, 429 and 5xx are retried; other answers are final. Redirects are not
followed (the event would be re-sent somewhere nobody configured). The routing key never appears in
a message, an exception or a log record, and neither does the URL's path (webhook URLs often embed
a secret): messages name the scheme and host only. The server's answer is reported by its status
code and a fixed reason, never quoted: a response body can echo the key, carry terminal escape
sequences or text crafted to mislead whoever reads the report.

:func:`validate` checks the settings and the routing key variable before anything is written.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import UsageError
from ..hookspecs import hookimpl
from ..httpretry import retry_after, retry_delay
from ..ledger import canonical_json
from ..ledger_store import LedgerStore
from ..model import Page
from . import DeliveryResult, already_delivered, event_body

if TYPE_CHECKING:
    import requests

SINK = "webhook"
_log = logging.getLogger(__name__)
# Indirection so tests can observe backoff delays without waiting for them.
_sleep = time.sleep
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """The validated ``paging.webhook`` mapping."""

    url: str
    routing_key_env: str
    timeout_seconds: float = 5.0
    max_attempts: int = 3
    backoff_seconds: float = 0.5
    max_delay_seconds: float = 30.0
    allow_http: bool = False

    @classmethod
    def from_settings(cls, value: object) -> WebhookSettings:
        """Validate ``paging.webhook``; raise :class:`UsageError` naming the bad key."""

        def fail(key: str, message: str) -> UsageError:
            return UsageError(message, source="paging", where=f"webhook.{key}")

        if not isinstance(value, Mapping):
            raise UsageError("expected a mapping", source="paging", where="webhook")
        conf: Mapping[str, Any] = value
        # Class attributes are slot descriptors, so defaults come from the fields.
        defaults = {f.name: f.default for f in fields(cls)}
        known = sorted(defaults)
        unknown = sorted(set(conf) - set(known))
        if unknown:
            raise fail(unknown[0], f"unknown key (expected one of {known})")

        def number(key: str, *, minimum: float, positive: bool = False) -> float:
            raw = conf.get(key, defaults[key])
            ok = isinstance(raw, int | float) and not isinstance(raw, bool) and raw >= minimum
            if not ok or (positive and raw == 0):
                bound = "> 0" if positive else f">= {minimum:g}"
                raise fail(key, f"expected a number {bound}, got {raw!r}")
            return float(raw)

        allow_http = conf.get("allow_http", defaults["allow_http"])
        if not isinstance(allow_http, bool):
            raise fail("allow_http", f"expected true or false, got {allow_http!r}")
        url = conf.get("url")
        if not isinstance(url, str):
            raise fail("url", "expected the webhook URL as a string")
        if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
            raise fail("url", "expected a URL without spaces or control characters")
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            raise fail("url", "malformed URL (a bracket, port or character that a URL "
                              "cannot hold)") from None
        schemes = ("https", "http") if allow_http else ("https",)
        if parts.scheme not in schemes or not parts.hostname:
            hint = "" if allow_http else " (set allow_http: true to allow http://)"
            raise fail(
                "url", f"expected an https:// URL with a host{hint}, got scheme {parts.scheme!r}"
            )
        env = conf.get("routing_key_env")
        if not isinstance(env, str) or not _ENV_NAME.match(env):
            raise fail("routing_key_env", f"expected an environment variable name, got {env!r}")
        attempts = conf.get("max_attempts", defaults["max_attempts"])
        if type(attempts) is not int or not 1 <= attempts <= 10:
            raise fail("max_attempts", f"expected an integer from 1 to 10, got {attempts!r}")
        return cls(
            url=url,
            routing_key_env=env,
            timeout_seconds=number("timeout_seconds", minimum=0, positive=True),
            max_attempts=attempts,
            backoff_seconds=number("backoff_seconds", minimum=0),
            max_delay_seconds=number("max_delay_seconds", minimum=0),
            allow_http=allow_http,
        )

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``: what messages may say about the URL."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"

    def routing_key(self) -> str:
        """The secret routing key, read from the environment variable the settings name."""
        key = os.environ.get(self.routing_key_env, "")
        if not key.strip():
            raise UsageError(
                f"environment variable {self.routing_key_env} is not set or empty; "
                "it must hold the routing key",
                source="paging",
                where="webhook.routing_key_env",
            )
        return key.strip()


@dataclass(frozen=True, slots=True)
class _Outcome:
    delivered: bool
    retry: bool
    detail: str
    retry_after: float | None = None




def validate(settings: Mapping[str, Any]) -> WebhookSettings | None:
    """Check ``paging.webhook`` and its routing key variable; None when the sink is off.

    Commands call it before they evaluate, so a sink that could never deliver is a usage error
    (exit 2) before any output, ledger record or page exists.

    :raises UsageError: naming the bad key (``webhook.url``, ``webhook.routing_key_env``, ...).
    """
    if settings.get("webhook") is None:
        return None
    cfg = WebhookSettings.from_settings(settings["webhook"])
    cfg.routing_key()
    return cfg


def _attempt(session: requests.Session, cfg: WebhookSettings, body: bytes) -> _Outcome:
    import requests

    timeout = cfg.timeout_seconds
    try:
        response = session.post(
            cfg.url,
            data=body,
            headers={"Content-Type": "application/json", "User-Agent": "govgate"},
            timeout=(timeout, timeout),
            allow_redirects=False,
            stream=True,  # the body is never read: it is not ours to quote
        )
    # Exception text can quote the URL, so only the exception's type is reported.
    except requests.exceptions.SSLError as exc:
        return _Outcome(False, False, f"TLS failed ({type(exc).__name__})")
    except requests.exceptions.Timeout as exc:
        return _Outcome(False, True, f"timed out after {timeout:g} s ({type(exc).__name__})")
    except requests.exceptions.ConnectionError as exc:
        return _Outcome(False, True, f"connection failed ({type(exc).__name__})")
    except requests.exceptions.RequestException as exc:
        return _Outcome(False, False, f"request failed ({type(exc).__name__})")
    with response:
        status = response.status_code
        if 200 <= status < 300:
            return _Outcome(True, False, f"HTTP {status}")
        if 300 <= status < 400:
            return _Outcome(False, False, f"HTTP {status} redirect (redirects are not followed)")
        if status == 429 or status >= 500:
            after = retry_after(response.headers.get("Retry-After"))
            return _Outcome(False, True, f"HTTP {status} ({_reason(status)})", after)
        return _Outcome(False, False, f"HTTP {status} ({_reason(status)}, not retried)")


def _reason(status: int) -> str:
    # A fixed text per class of status; the server's own reason phrase is as untrusted as its body.
    if status == 429:
        return "rate limited"
    if status in (401, 403):
        return "refused: check the routing key"
    if 400 <= status < 500:
        return "the event was refused"
    return "server error"


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "[redacted]")


def deliver(page: Page, cfg: WebhookSettings) -> DeliveryResult:
    """Post ``page`` with bounded retries; never raises for a failed delivery."""
    import requests

    key = cfg.routing_key()
    body = canonical_json({"routing_key": key, **event_body(page)})
    detail = "not attempted"
    attempt = 0
    with requests.Session() as session:
        for attempt in range(1, cfg.max_attempts + 1):
            outcome = _attempt(session, cfg, body)
            # A server may echo the key back in an error body.
            detail = _redact(outcome.detail, key)
            if outcome.delivered:
                return DeliveryResult(
                    SINK, page.dedup_key, True, False, attempt, f"{cfg.origin} answered {detail}"
                )
            if not outcome.retry or attempt == cfg.max_attempts:
                break
            delay = retry_delay(attempt, outcome.retry_after, cfg.backoff_seconds,
                                cfg.max_delay_seconds)
            _log.warning(
                "page %s: attempt %d/%d to %s failed: %s; retrying in %.2f s",
                page.dedup_key,
                attempt,
                cfg.max_attempts,
                cfg.origin,
                detail,
                delay,
            )
            _sleep(delay)
    noun = "attempt" if attempt == 1 else "attempts"
    message = f"not delivered to {cfg.origin} after {attempt} {noun}: {detail}"
    _log.error("page %s: %s", page.dedup_key, message)
    return DeliveryResult(SINK, page.dedup_key, False, False, attempt, message)


@hookimpl
def govgate_check_paging(settings: Mapping[str, Any]) -> None:
    """The settings parse and the routing key variable is set, before anything is written."""
    if settings.get("webhook") is not None:
        WebhookSettings.from_settings(settings["webhook"]).routing_key()


@hookimpl
def govgate_page(page: Page, settings: Mapping[str, Any],
                 ledger: LedgerStore) -> DeliveryResult | None:
    """Post ``page`` to the configured webhook unless the run's ledger shows it was delivered.

    The caller appends :func:`govgate.sinks.page_record` to the ledger after a delivery.
    """
    cfg = validate(settings)  # a missing secret is a configuration error even when nothing is sent
    if cfg is None:
        return None
    if already_delivered(ledger, SINK, page):
        return DeliveryResult(
            SINK, page.dedup_key, True, True, 0, "already delivered according to the run's ledger"
        )
    return deliver(page, cfg)
