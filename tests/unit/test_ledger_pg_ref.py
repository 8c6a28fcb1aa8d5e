"""A password in a configured ``postgresql://`` ledger reference is refused, however it is
spelled: libpq decodes percent-encoding in query keywords, so ``pass%77ord=`` is a password.

libpq's own parser (through psycopg) is the oracle: whenever it finds a secret in the
reference, :func:`govgate.ledger_pg.parse_dsn` must refuse it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govgate.errors import UsageError
from govgate.ledger_pg import parse_dsn

conninfo = pytest.importorskip("psycopg.conninfo")

SECRETS = ("password", "sslpassword")


def _libpq_sees_a_secret(ref: str) -> bool:
    parsed = conninfo.conninfo_to_dict(ref)
    return any(parsed.get(k) is not None for k in SECRETS)


@st.composite
def spelled(draw: st.DrawFn, word: str) -> str:
    """``word`` with any of its letters percent-encoded, in either case of hex digit."""
    out = []
    for ch in word:
        if draw(st.booleans()):
            code = f"{ord(ch):02x}"
            out.append("%" + (code.upper() if draw(st.booleans()) else code))
        else:
            out.append(ch)
    return "".join(out)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SECRETS).flatmap(spelled), st.booleans(), st.booleans())
def test_a_password_keyword_in_any_spelling_is_refused(key: str, first: bool,
                                                       dbname: bool) -> None:
    params = [f"{key}=hunter2"]
    if dbname:
        params.insert(0 if not first else 1, "dbname=x")
    ref = "postgresql://u@db.invalid/x?" + "&".join(params)
    assert _libpq_sees_a_secret(ref)
    with pytest.raises(UsageError) as info:
        parse_dsn(ref, shown="ledger")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("ref", [
    "postgresql://u:hunter2@db.invalid/x",
    "postgresql://u:@db.invalid/x",
    "postgres://u@db.invalid/x?password=hunter2",
    "postgresql://u@db.invalid/x?sslmode=require&sslpassword=hunter2",
    "postgresql://u@db.invalid/x?PASS%77ord=hunter2&pass%77ord=hunter2",
])
def test_every_spelling_of_a_secret_is_refused(ref: str) -> None:
    with pytest.raises(UsageError):
        parse_dsn(ref, shown="ledger")


@pytest.mark.parametrize("ref", [
    "postgresql://u@db.invalid/x",
    "postgresql://u@/x?host=/run/pg&port=5433&sslmode=verify-full",
    "postgresql://u@db.invalid/x?passfile=/home/u/.pgpass",
])
def test_a_reference_without_a_secret_is_accepted(ref: str) -> None:
    assert not _libpq_sees_a_secret(ref)
    assert parse_dsn(ref, shown="ledger") == ref


def test_from_the_environment_a_password_is_accepted() -> None:
    ref = "postgresql://u@db.invalid/x?pass%77ord=hunter2"
    assert parse_dsn(ref, shown="env:GOVGATE_LEDGER") == ref


@pytest.mark.parametrize("ref", [
    "postgresql://u:hunter2@127.0.0.1:1/x",
    "postgresql://u@127.0.0.1:1/x?pass%77ord=hunter2",
    "postgresql://u@127.0.0.1:99999/x",
    "postgresql://u@[::1/x",
])
def test_a_refused_ledger_reference_is_one_line_without_a_traceback(
        tmp_path: Path, ref: str) -> None:
    for argv, config in ((["ledger", "verify", ref], None), (["ledger", "verify"], ref),
                         (["--as-of", "2026-11-20T00:00:00Z", "check"], ref)):
        if config is not None:
            (tmp_path / "govgate.yaml").write_text(f"ledger: {json.dumps(config)}\n",
                                                   encoding="utf-8")
        run = subprocess.run([sys.executable, "-m", "govgate", *argv], capture_output=True,
                             text=True, check=False, cwd=tmp_path)
        assert run.returncode == 2, (argv, run.stderr)
        assert "Traceback" not in run.stderr and "Exception ignored" not in run.stderr, \
            run.stderr
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert "hunter2" not in run.stderr + run.stdout


def test_a_source_reference_with_any_password_keyword_is_refused() -> None:
    from govgate.sources.postgres import parse_ref

    for key in ("password", "pass%77ord", "sslpassword", "sslpass%77ord"):
        with pytest.raises(Exception, match="password in the reference") as info:
            parse_ref(f"postgresql://u@h/x?table=scheduler_run&{key}=hunter2")
        assert "hunter2" not in str(info.value)
