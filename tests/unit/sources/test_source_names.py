"""A reference is named by its source name: a signed URL's query string reaches no output.

The class: any secret a reference carries (a query string, user-info) must not reach any output
(stdout, stderr, result.json, summary.md, every report format, artifacts, the ledger, the pager
outbox, the documents), on success and on every kind of failure, whoever raises the error.
"""

from __future__ import annotations

import logging
import shutil
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import run_cli
from tests.support.httpserver import HTTPTestServer, Response

from govgate.errors import GovgateError, SourceError
from govgate.model import Location
from govgate.sources.names import REDACTED, redact_refs, source_name

REPO = Path(__file__).resolve().parents[3]
SIG = "SiGnAtUrE0x5ecret"
QUERY = f"X-Amz-Signature={SIG}&X-Amz-Credential=AKIA{SIG}&token=t{SIG}"


# --- the name itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(("ref", "name"), [
    ("fixtures/runs.csv", "fixtures/runs.csv"),
    ("file://fixtures/runs.csv", "file://fixtures/runs.csv"),
    ("https://store.example/w45/runs.csv", "https://store.example/w45/runs.csv"),
    (f"https://store.example/w45/runs.csv?{QUERY}", "https://store.example/w45/runs.csv?<redacted>"),
    (f"https://user:{SIG}@store.example:8443/r.csv#{SIG}", "https://store.example:8443/r.csv"),
    (f"HTTP://u@h/p?{SIG}", "HTTP://h/p?<redacted>"),
    ("postgresql:///gov?host=/run/pg&table=signer_ack_event",
     "postgresql:///gov?host=/run/pg&table=signer_ack_event"),
    (f"postgresql://ro@db/gov?sslpassword={SIG}&table=signer_ack_event",
     "postgresql://db/gov?table=signer_ack_event&<redacted>"),
    (f"http://[::1/x?{SIG}", "http://<redacted>"),  # too malformed to split
])
def test_the_source_name_of_a_reference(ref: str, name: str) -> None:
    assert source_name(ref) == name
    assert source_name(name) == name  # idempotent: naming a name changes nothing


_QUERY_CHARS = string.ascii_letters + string.digits + "-._~%+/=&:@!$'()*,;?"


@given(host=st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,5}){0,2}", fullmatch=True),
       path=st.from_regex(r"(/[A-Za-z0-9._-]{1,12}){0,4}", fullmatch=True),
       secret=st.text(_QUERY_CHARS, min_size=8, max_size=60).filter(lambda s: "&" not in s),
       scheme=st.sampled_from(["https", "http", "s3", "gs", "postgresql"]))
def test_no_query_value_survives_in_a_name_or_a_message(host: str, path: str, secret: str,
                                                        scheme: str) -> None:
    marker = "Z9" + secret  # something that cannot be part of the host or the path
    ref = f"{scheme}://{host}{path}?sig={marker}"
    assert marker not in source_name(ref)
    assert source_name(ref).endswith(REDACTED)
    error = GovgateError(f"cannot read {ref}: boom, see {ref}.", source=ref, where="row 2")
    assert marker not in str(error)
    assert marker not in redact_refs(f"'{ref}', ({ref}) [{ref}]")
    assert marker not in Location(ref, 3).render()


def test_a_plugin_error_naming_the_raw_reference_is_redacted() -> None:
    ref = f"s3://bucket/w45/runs.csv?{QUERY}"
    text = str(SourceError(f"cannot read {ref}: access denied", source=ref))
    assert SIG not in text
    assert text == ("s3://bucket/w45/runs.csv?<redacted>: cannot read "
                    "s3://bucket/w45/runs.csv?<redacted>: access denied")


# --- every output of every command, with every input at a signed URL ---------------------------


@pytest.fixture
def server() -> Iterator[HTTPTestServer]:
    with HTTPTestServer() as srv:
        yield srv


@pytest.fixture
def signed_demo(tmp_path: Path, server: HTTPTestServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped demo with every input file served at a signed URL (jobs stay a folder)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "demo"
    for name in ("fixtures", "policies"):
        shutil.copytree(REPO / name, root / name)
    config: dict[str, Any] = yaml.safe_load((REPO / "govgate.yaml").read_text("utf-8"))
    for section in ("reconciliation", "fatigue"):
        for key, rel in config[section].items():
            if key == "jobs":
                continue
            server.serve(f"/{rel}", Response(body=(root / rel).read_bytes()))
            config[section][key] = server.url(f"/{rel}") + f"?{QUERY}"
    config["sources"] = {"https": {"allow_http": True, "timeout_seconds": 5, "max_attempts": 1}}
    (root / "govgate.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return root


def assert_nothing_leaked(root: Path, *texts: str) -> None:
    for text in texts:
        assert SIG not in text
    for path in root.rglob("*"):
        if path.is_file() and path.name != "govgate.yaml":
            assert SIG.encode() not in path.read_bytes(), path


AS_OF = "2026-11-20T00:00:00Z"


@pytest.mark.parametrize("args", [
    ["check", "--as-of", AS_OF, "--format", "json,text,markdown,sarif,junit,github"],
    ["promote", "--as-of", AS_OF, "--format", "json"],
    ["heatmap", "--as-of", AS_OF, "--format", "json", "--output", "hm"],
    ["readback", "--quarter", "2026-Q4", "--as-of", "2026-12-31T00:00:00Z", "-o", "rb"],
    ["review", "--month", "2026-10", "--as-of", AS_OF, "-o", "rv"],
    ["checklist", "--as-of", AS_OF, "-o", "cl"],
    ["faq", "--as-of", AS_OF, "-o", "fq"],
])
def test_no_output_of_any_command_holds_the_query(signed_demo: Path, args: list[str],
                                                  caplog: pytest.LogCaptureFixture) -> None:
    # What the command line prints (Python's last-resort handler: warnings and above), and
    # govgate's own info lines. (urllib3's DEBUG lines quote the URL: nothing here enables them.)
    caplog.set_level(logging.INFO)
    result = run_cli(args, signed_demo)
    assert result.code in (0, 1), result.err
    assert_nothing_leaked(signed_demo, result.out, result.err, caplog.text)


def test_findings_name_the_signed_input_by_its_source_name(signed_demo: Path) -> None:
    result = run_cli(["check", "--as-of", AS_OF, "--format", "json", "--no-deliver"],
                     signed_demo)
    paths = {f["location"]["path"] for f in result.json()["findings"] if f.get("location")}
    assert any(p.endswith("/fixtures/reconciliation/run_acks.csv?<redacted>") for p in paths)


@pytest.mark.parametrize(("body", "status", "message"), [
    (b"job_run_id,scheduled_at\nrecon-1,not-a-time\n", 200, "row 4"),  # a bad row
    (b"", 404, "HTTP 404 Not Found"),
    (b"boom", 500, "HTTP 500 Internal Server Error"),
])
def test_a_refused_signed_input_names_it_without_the_query(
    signed_demo: Path, server: HTTPTestServer, caplog: pytest.LogCaptureFixture, body: bytes,
    status: int, message: str
) -> None:
    server.serve("/fixtures/reconciliation/scheduler_runs.csv",
                 Response(body=body + f"\n{SIG}\n".encode(), status=status))
    result = run_cli(["check", "--as-of", AS_OF], signed_demo)
    assert result.code == 2
    assert result.err.startswith(
        f"govgate: error: {server.url('/fixtures/reconciliation/scheduler_runs.csv')}"
        "?<redacted>: ")
    assert message in result.err
    assert_nothing_leaked(signed_demo, result.out, result.err, caplog.text)
