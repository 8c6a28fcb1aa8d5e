"""The https source against a real HTTP server on 127.0.0.1: every requests path."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.httpserver import HTTPTestServer, Response

from govgate.config import Config
from govgate.errors import ExitCode, SourceError
from govgate.loaders.io import read_ref
from govgate.plugins import get_plugin_manager
from govgate.sources import https

BODY = b"job_run_id,status\nrecon-2026-W45,PASS\n"
DIGEST = hashlib.sha256(BODY).hexdigest()
SECRET = "s3cr3t-T0KEN.must~never+leak/x=="
ENV = "GOVGATE_TEST_ARTIFACT_TOKEN"


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy from the developer's environment would intercept 127.0.0.1 and skew every test.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(ENV, SECRET)


@pytest.fixture
def server() -> Iterator[HTTPTestServer]:
    with HTTPTestServer() as srv:
        yield srv


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record backoff delays instead of waiting them out."""
    delays: list[float] = []
    monkeypatch.setattr(https, "_sleep", delays.append)
    return delays


def settings(**overrides: Any) -> dict[str, Any]:
    """``sources`` with an https section suited to a local server (http, short timeouts)."""
    conf: dict[str, Any] = {"allow_http": True, "timeout_seconds": 2, "max_attempts": 3,
                            "backoff_seconds": 0.01, "tokens": {"127.0.0.1": ENV}}
    conf.update(overrides)
    return {"https": {k: v for k, v in conf.items() if v is not None}}


def read(url: str, **overrides: Any) -> bytes:
    data = https.govgate_read_source(ref=url, settings=settings(**overrides))
    assert data is not None
    return data


def fails(url: str, caplog: pytest.LogCaptureFixture | None = None, **overrides: Any) -> str:
    """The one-line error text of a failing read; it never holds the token."""
    with pytest.raises(SourceError) as info:
        read(url, **overrides)
    text = str(info.value)
    assert info.value.exit_code == ExitCode.USAGE_ERROR
    assert SECRET not in text and SECRET not in repr(info.value.args)
    if caplog is not None:
        assert SECRET not in caplog.text
    return text


# --- success and checksum --------------------------------------------------------------------


@pytest.mark.parametrize("pinned", [DIGEST, f"sha256:{DIGEST}", DIGEST.upper()])
def test_success_with_a_matching_sha256(server: HTTPTestServer, pinned: str) -> None:
    server.serve("/runs.csv", Response(body=BODY))
    url = server.url("/runs.csv")
    assert read(url, sha256={url: pinned}) == BODY
    (request,) = server.requests
    assert request.method == "GET"
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    # The digest is of the stored bytes: no transfer compression in between.
    assert request.headers["accept-encoding"] == "identity"
    assert request.headers["user-agent"].startswith("govgate/")


def test_wrong_checksum_is_refused_naming_the_url_without_its_query(
    server: HTTPTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.serve("/runs.csv", Response(body=BODY + b"recon-2026-W46,PASS\n"))
    url = server.url("/runs.csv?X-Signature=sig-SECRET-part")
    text = fails(url, caplog, sha256={url: DIGEST})
    assert text.startswith(f"{server.url('/runs.csv')}?<redacted>: sha256 mismatch: expected "
                           f"sha256:{DIGEST}, got sha256:")
    assert "sig-SECRET-part" not in text


def test_the_pin_is_looked_up_by_the_reference_as_written(server: HTTPTestServer) -> None:
    # A digest pinned for another URL does not apply (and does not make this one fail).
    server.serve("/runs.csv", Response(body=BODY))
    assert read(server.url("/runs.csv"), sha256={server.url("/other.csv"): "0" * 64}) == BODY


def test_without_a_token_no_authorization_header_is_sent(server: HTTPTestServer) -> None:
    server.serve("/runs.csv", Response(body=BODY))
    assert read(server.url("/runs.csv"), tokens=None) == BODY
    assert "authorization" not in server.requests[0].headers


def test_a_token_is_per_host_and_port(server: HTTPTestServer, monkeypatch: pytest.MonkeyPatch
                                      ) -> None:
    monkeypatch.setenv("OTHER_TOKEN", "port-specific")
    server.serve("/runs.csv", Response(body=BODY))
    read(server.url("/runs.csv"), tokens={"127.0.0.1": ENV, f"127.0.0.1:{server.port}":
                                          "OTHER_TOKEN"})
    assert server.requests[0].headers["authorization"] == "Bearer port-specific"


# --- retries -----------------------------------------------------------------------------------


def test_500_then_success(server: HTTPTestServer, sleeps: list[float],
                          caplog: pytest.LogCaptureFixture) -> None:
    server.enqueue(Response.text(f"boom: Authorization: Bearer {SECRET}", status=500),
                   Response(status=503), Response(body=BODY))
    with caplog.at_level(logging.WARNING, logger="govgate.sources.https"):
        assert read(server.url("/runs.csv")) == BODY
    assert len(server.requests) == 3
    assert sleeps == [0.01, 0.02]  # exponential backoff
    assert "attempt 1/3 failed: HTTP 500 Internal Server Error" in caplog.text
    assert SECRET not in caplog.text


def test_500_every_time_fails_after_max_attempts(server: HTTPTestServer, sleeps: list[float]
                                                 ) -> None:
    server.serve("/runs.csv", Response.text(f"echo Bearer {SECRET}", status=500))
    text = fails(server.url("/runs.csv"), max_attempts=2)
    assert text == (f"{server.url('/runs.csv')}: HTTP 500 Internal Server Error "
                    "(after 2 attempts)")
    assert len(server.requests) == 2 and sleeps == [0.01]


def test_429_honours_a_numeric_retry_after_capped(server: HTTPTestServer, sleeps: list[float]
                                                  ) -> None:
    server.enqueue(Response(status=429, headers={"Retry-After": "7"}),
                   Response(status=429, headers={"Retry-After": "3600"}),
                   Response(status=429, headers={"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}),
                   Response(body=BODY))
    assert read(server.url("/runs.csv"), max_attempts=4, max_delay_seconds=30) == BODY
    # The server's wish, capped; an HTTP-date falls back to the backoff (no clock is read).
    assert sleeps == [7.0, 30.0, 0.04]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_other_4xx_are_not_retried(server: HTTPTestServer, sleeps: list[float], status: int
                                   ) -> None:
    server.serve("/runs.csv", Response.text(f"no such thing; you sent {SECRET}", status=status))
    text = fails(server.url("/runs.csv"))
    assert f"HTTP {status} " in text and "(not retried) (after 1 attempt)" in text
    assert len(server.requests) == 1 and sleeps == []


def test_a_slow_response_times_out(server: HTTPTestServer, sleeps: list[float]) -> None:
    server.serve("/runs.csv", Response(body=BODY, delay=5))
    started = time.monotonic()
    text = fails(server.url("/runs.csv"), timeout_seconds=0.2, max_attempts=2)
    assert time.monotonic() - started < 3
    assert "timed out after 0.2 s" in text and "(after 2 attempts)" in text
    assert len(server.requests) == 2


def test_a_slow_response_within_the_timeout_is_read(server: HTTPTestServer) -> None:
    server.serve("/runs.csv", Response(body=BODY, delay=0.2))
    assert read(server.url("/runs.csv"), timeout_seconds=2) == BODY


# --- the whole fetch has a deadline -----------------------------------------------------------
# A server that sends a byte now and then never trips the read timeout (each wait is short):
# only a deadline on the whole fetch ends it. Without one, these tests would read for minutes
# and then succeed, so they fail by their outcome, not by a stopwatch.

SLOW_BODY = b"job_run_id,status\n" + b"recon-2026-W45,PASS\n" * 60  # over 1,000 bytes


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "status-and-headers"])
def test_a_source_that_drips_bytes_is_stopped_at_the_deadline(
    server: HTTPTestServer, sleeps: list[float], caplog: pytest.LogCaptureFixture,
    headers_too: bool
) -> None:
    server.serve("/runs.csv", Response(body=SLOW_BODY, drip=0.05, drip_headers=headers_too))
    text = fails(server.url("/runs.csv"), caplog, timeout_seconds=1, total_timeout_seconds=0.5)
    assert text == (f"{server.url('/runs.csv')}: not complete within 0.5 s "
                    "(sources.https.total_timeout_seconds) (after 1 attempt)")
    assert len(server.requests) == 1 and sleeps == []  # a deadline is final: no retry


def test_the_deadline_covers_the_waits_between_attempts(
    server: HTTPTestServer, sleeps: list[float]
) -> None:
    server.serve("/runs.csv", Response(status=503, headers={"Retry-After": "20"}))
    text = fails(server.url("/runs.csv"), total_timeout_seconds=5, max_delay_seconds=30)
    assert "not complete within 5 s" in text and "(after 1 attempt)" in text
    assert sleeps == []  # a wait that ends after the deadline is not started


def test_a_dripping_body_within_the_deadline_is_read(server: HTTPTestServer) -> None:
    server.serve("/runs.csv", Response(body=BODY, drip=0.001))
    assert read(server.url("/runs.csv"), total_timeout_seconds=30) == BODY


def test_no_helper_thread_outlives_a_fetch(server: HTTPTestServer, sleeps: list[float]) -> None:
    # Worker processes are forked only when no other thread runs (fatigue/workers.py).
    import threading

    server.serve("/ok.csv", Response(body=BODY))
    server.serve("/slow.csv", Response(body=SLOW_BODY, drip=0.05))
    read(server.url("/ok.csv"))
    fails(server.url("/slow.csv"), total_timeout_seconds=0.3)
    assert not [t for t in threading.enumerate() if t.name == "govgate-fetch"]


@pytest.mark.parametrize("value", [0, -1, "10", True])
def test_total_timeout_must_be_a_positive_number(value: object) -> None:
    with pytest.raises(SourceError) as info:
        https.HttpsSettings.from_settings(settings(total_timeout_seconds=value))
    assert info.value.where == "https.total_timeout_seconds"


def test_connection_refused_is_retried_then_fails(sleeps: list[float]) -> None:
    with HTTPTestServer() as gone:
        url = gone.url("/runs.csv")
    text = fails(url)
    assert "connection failed (ConnectionError) (after 3 attempts)" in text
    assert sleeps == [0.01, 0.02]


# --- the body --------------------------------------------------------------------------------


def test_a_truncated_body_is_refused(server: HTTPTestServer, sleeps: list[float]) -> None:
    server.serve("/runs.csv", Response(body=BODY, truncate_at=10))
    text = fails(server.url("/runs.csv"))
    assert f"truncated body: received 10 of {len(BODY)} bytes (after 3 attempts)" in text


def test_a_truncated_body_is_retried(server: HTTPTestServer, sleeps: list[float]) -> None:
    server.enqueue(Response(body=BODY, truncate_at=5), Response(body=BODY))
    assert read(server.url("/runs.csv")) == BODY
    assert len(server.requests) == 2


def test_a_body_over_the_size_cap_is_refused_from_its_content_length(
    server: HTTPTestServer, sleeps: list[float]
) -> None:
    server.serve("/runs.csv", Response(body=BODY))
    text = fails(server.url("/runs.csv"), max_bytes=10)
    assert f"the body is {len(BODY)} bytes, above the limit of 10" in text
    assert len(server.requests) == 1  # a size is not transient: no retry


def test_the_size_cap_defaults_to_sources_max_bytes(server: HTTPTestServer) -> None:
    server.serve("/runs.csv", Response(body=BODY))
    with pytest.raises(SourceError, match="above the limit of 12"):
        https.govgate_read_source(ref=server.url("/runs.csv"),
                                  settings={"max_bytes": 12, "https": {"allow_http": True}})


def test_a_body_exactly_at_the_cap_is_read(server: HTTPTestServer) -> None:
    server.serve("/runs.csv", Response(body=BODY))
    assert read(server.url("/runs.csv"), max_bytes=len(BODY)) == BODY


class _Raw:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def stream(self, amount: int, decode_content: bool) -> Iterator[bytes]:
        assert decode_content is False
        yield from self.chunks


class _Streamed:
    """A response without Content-Length (chunked): only streaming can enforce the cap."""

    status_code = 200
    headers: dict[str, str] = {}  # noqa: RUF012 - read-only in these tests

    def __init__(self, chunks: list[bytes]) -> None:
        self.raw = _Raw(chunks)


def test_a_body_without_content_length_is_cut_off_at_the_cap() -> None:
    cfg = https.HttpsSettings(max_bytes=100)
    outcome = https._read_body(_Streamed([b"x" * 60, b"x" * 60, b"never read"]), cfg)  # type: ignore[arg-type]
    assert outcome.body is None and not outcome.retry
    assert outcome.detail == "the body exceeds the limit of 100 bytes (sources.https.max_bytes)"
    assert https._read_body(_Streamed([b"x" * 60, b"x" * 40]), cfg).body == b"x" * 100  # type: ignore[arg-type]


def test_an_encoded_body_is_refused(server: HTTPTestServer) -> None:
    server.serve("/runs.csv", Response(body=BODY, headers={"Content-Encoding": "gzip"}))
    assert "encoded body" in fails(server.url("/runs.csv"))


def test_an_empty_200_is_returned_as_is_for_the_loader_to_judge(server: HTTPTestServer) -> None:
    server.serve("/runs.csv", Response(body=b""))
    assert read(server.url("/runs.csv")) == b""


# --- redirects ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_on_the_same_host_is_followed(server: HTTPTestServer, status: int) -> None:
    server.serve("/latest.csv", Response.redirect("/w45/runs.csv", status=status))
    server.serve("/w45/runs.csv", Response(body=BODY))
    url = server.url("/latest.csv")
    assert read(url, sha256={url: DIGEST}) == BODY
    assert [r.route for r in server.requests] == ["/latest.csv", "/w45/runs.csv"]
    # The same origin keeps the token.
    assert all(r.headers["authorization"] == f"Bearer {SECRET}" for r in server.requests)


@pytest.mark.parametrize("target", [
    "http://localhost:{port}/runs.csv",       # same server, another host name
    "http://127.0.0.2:{port}/runs.csv",       # another address
    "http://127.0.0.1:1/runs.csv",            # another port
    "https://127.0.0.1:{port}/runs.csv",      # another scheme
    "//evil.example/runs.csv?echo={secret}",  # scheme-relative
])
def test_a_redirect_to_another_origin_is_refused(
    server: HTTPTestServer, sleeps: list[float], target: str
) -> None:
    location = target.format(port=server.port, secret=SECRET)
    server.serve("/latest.csv", Response.redirect(location))
    server.serve("/runs.csv", Response(body=BODY))
    text = fails(server.url("/latest.csv"))
    assert "HTTP 302 Found redirect to another scheme, host or port refused" in text
    assert "(after 1 attempt)" in text
    # Nothing was fetched from the target, so the token went nowhere else.
    assert [r.route for r in server.requests] == ["/latest.csv"]


def test_a_redirect_loop_stops(server: HTTPTestServer) -> None:
    server.serve("/a", Response.redirect("/b"))
    server.serve("/b", Response.redirect("/a"))
    assert "more than 5 redirects" in fails(server.url("/a"))
    assert len(server.requests) == https.MAX_REDIRECTS + 1


def test_a_redirect_without_location_is_refused(server: HTTPTestServer) -> None:
    server.serve("/a", Response(status=302))
    assert "HTTP 302 Found without a Location" in fails(server.url("/a"))


# --- what is refused before any request ----------------------------------------------------------


def test_http_is_refused_unless_allowed(server: HTTPTestServer) -> None:
    server.serve("/runs.csv", Response(body=BODY))
    text = fails(server.url("/runs.csv"), allow_http=False)
    assert "http:// is refused" in text and "allow_http: true" in text
    assert server.requests == []


def test_https_against_a_plain_http_server_fails_tls(server: HTTPTestServer) -> None:
    url = f"https://127.0.0.1:{server.port}/runs.csv"
    text = fails(url, allow_http=False)
    assert text.startswith(f"{url}: TLS failed (SSLError)")


@pytest.mark.parametrize("userinfo", [
    "reader:{secret}@",
    "{secret}@",
    # Unencoded, a '/' in a password ends the authority early: urlsplit then sees part of the
    # password as the host name, or as a port that is not a number, and the rest as the path.
    "reader:pass/word-{secret}@",
    "reader:{secret}/@",
])
def test_credentials_in_the_url_are_refused(server: HTTPTestServer, userinfo: str) -> None:
    userinfo = userinfo.format(secret=SECRET)
    url = f"http://{userinfo}127.0.0.1:{server.port}/runs.csv"
    text = fails(url)
    assert text == (f"http://127.0.0.1:{server.port}: credentials in the URL are refused (they "
                    "would be printed with it); name a token variable in sources.https.tokens "
                    "(write an '@' that belongs to the path as %40)")
    assert server.requests == []


def test_a_host_outside_allowed_hosts_is_refused(server: HTTPTestServer) -> None:
    text = fails(server.url("/runs.csv"), allowed_hosts=["artifacts.example.com"])
    assert "host 127.0.0.1 is not in sources.https.allowed_hosts" in text
    assert server.requests == []
    server.serve("/runs.csv", Response(body=BODY))
    assert read(server.url("/runs.csv"), allowed_hosts=["127.0.0.1"]) == BODY


def test_a_missing_token_variable_is_named(server: HTTPTestServer,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV)
    text = fails(server.url("/runs.csv"))
    assert f"environment variable {ENV} is not set or empty" in text
    assert server.requests == []


def test_a_token_that_could_forge_a_header_is_refused_without_quoting_it(
    server: HTTPTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, f"{SECRET}\r\nX-Injected: 1")
    text = fails(server.url("/runs.csv"))
    assert f"environment variable {ENV} does not hold a bearer token" in text
    assert "X-Injected" not in text and server.requests == []


# --- the token never leaks -----------------------------------------------------------------------


@pytest.mark.parametrize("response", [
    Response.text(f"Authorization: Bearer {SECRET}", status=500),
    Response.text(f"Authorization: Bearer {SECRET}", status=401),
    Response.redirect(f"http://127.0.0.2/?token={SECRET}"),
    Response(body=f"Bearer {SECRET}".encode(), truncate_at=3),
    Response(body=f"Bearer {SECRET}".encode(), headers={"X-Echo": f"Bearer {SECRET}"}),
], ids=["500-echo", "401-echo", "redirect-echo", "truncated-echo", "checksum-echo"])
def test_the_token_is_absent_from_every_error_and_log(
    server: HTTPTestServer, caplog: pytest.LogCaptureFixture, sleeps: list[float],
    response: Response,
) -> None:
    server.serve("/runs.csv", response)
    url = server.url("/runs.csv")
    with caplog.at_level(logging.DEBUG):
        fails(url, caplog, sha256={url: DIGEST})
    assert all(r.headers["authorization"] == f"Bearer {SECRET}" for r in server.requests)


def test_a_redirect_target_is_not_named(server: HTTPTestServer,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # A host name is case-insensitive: an echo of the token there would survive exact redaction.
    monkeypatch.setenv(ENV, "HostSafeToken42")
    server.serve("/runs.csv", Response.redirect("http://HOSTSAFETOKEN42.example/runs.csv"))
    text = fails(server.url("/runs.csv"))
    assert "hostsafetoken42" not in text.lower()


# --- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("overrides", "where"), [
    ({"timeout_seconds": 0}, "https.timeout_seconds"),
    ({"max_attempts": 0}, "https.max_attempts"),
    ({"max_attempts": True}, "https.max_attempts"),
    ({"allow_http": "yes"}, "https.allow_http"),
    ({"tokens": {"127.0.0.1": "not a name"}}, "https.tokens.127.0.0.1"),
    ({"sha256": {"https://a.example/x.csv?sig=1": "abc"}}, "https.sha256[https://a.example/x.csv?<redacted>]"),
    ({"allowed_hosts": "127.0.0.1"}, "https.allowed_hosts"),
    ({"retries": 3}, "https.retries"),
])
def test_bad_settings_name_the_key(overrides: dict[str, Any], where: str) -> None:
    with pytest.raises(SourceError) as info:
        https.HttpsSettings.from_settings(settings(**overrides))
    assert info.value.where == where and info.value.source == "sources"
    assert "sig=1" not in str(info.value)


def test_defaults() -> None:
    cfg = https.HttpsSettings.from_settings({})
    assert (cfg.timeout_seconds, cfg.max_attempts, cfg.backoff_seconds, cfg.max_delay_seconds,
            cfg.allow_http, cfg.allowed_hosts) == (10.0, 3, 0.5, 30.0, False, None)
    assert cfg.max_bytes == 512 * 1024 * 1024


def test_public_url_drops_query_fragment_and_userinfo() -> None:
    assert https.public_url("https://u:p@Host.example:8443/a/b.csv?sig=1#f") == (
        "https://Host.example:8443/a/b.csv?<redacted>")


# --- the plugin in the manager -------------------------------------------------------------------


def test_other_references_are_left_to_other_sources() -> None:
    for ref in ("runs.csv", "file://runs.csv", "postgresql:///db?table=signer_ack_event",
                "ftp://host/x.csv"):
        assert https.govgate_read_source(ref=ref, settings={}) is None


def test_the_plugin_manager_routes_urls_here(server: HTTPTestServer, tmp_path: Path) -> None:
    server.serve("/runs.csv", Response(body=BODY))
    pm = get_plugin_manager(load_entrypoints=False)
    config = Config(path=None, base=tmp_path, data={"sources": settings()})
    assert read_ref(config, pm.hook, server.url("/runs.csv")) == BODY
    with pytest.raises(SourceError, match="http:// is refused"):
        read_ref(Config(path=None, base=tmp_path), pm.hook, server.url("/runs.csv"))
    # -p no:https leaves the URL to no one: an error, never empty data.
    pm = get_plugin_manager(["no:https"], load_entrypoints=False)
    with pytest.raises(SourceError, match="no source plugin handles this reference"):
        read_ref(config, pm.hook, server.url("/runs.csv"))
