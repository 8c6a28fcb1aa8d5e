"""A throwaway PostgreSQL cluster for tests: initdb, start on a private unix socket, stop.

Usage::

    with PostgresCluster.start_in(tmp_path) as pg:
        with pg.connect() as conn:          # psycopg, imported lazily
            conn.execute("SELECT 1")
        print(pg.psql("SELECT version()"))

``pg_binaries()`` finds ``initdb``/``pg_ctl``/``psql`` on PATH or under
``/usr/lib/postgresql/*/bin``. ``skip_or_fail()`` skips the calling test when they are missing,
unless ``GOVGATE_REQUIRE_POSTGRES=1`` (CI) turns that into a failure. When the tests run as root,
the cluster runs as the ``postgres`` user through ``runuser`` (PostgreSQL refuses to run as root),
and its folder is made over to that user.

The server listens on no TCP port (``listen_addresses=''``), only on a socket in its own folder,
so concurrent test runs never collide. It is always stopped, even when the test fails.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PostgresCluster", "pg_binaries", "skip_or_fail"]

REQUIRE_ENV = "GOVGATE_REQUIRE_POSTGRES"
_PG_TOOLS = ("initdb", "pg_ctl", "psql")
# A unix socket path must stay below ~107 bytes.
_MAX_SOCKET_DIR = 80


def pg_binaries() -> dict[str, Path] | None:
    """Paths of initdb, pg_ctl and psql from one installation, or None when not installed."""
    candidates: list[Path] = []
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        tools = {name: folder / name for name in _PG_TOOLS}
        if all(os.access(path, os.X_OK) for path in tools.values()):
            return tools
    found = {name: shutil.which(name) for name in _PG_TOOLS}
    if all(found.values()):
        return {name: Path(path) for name, path in found.items() if path}
    return None


def skip_or_fail(reason: str) -> None:
    """Skip the current test, or fail it when ``GOVGATE_REQUIRE_POSTGRES=1``."""
    import pytest

    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} (and {REQUIRE_ENV}=1 requires PostgreSQL)")
    pytest.skip(reason)


def _runs_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _reachable_by_others(folder: Path) -> bool:
    """True when every ancestor lets other users through (the postgres user must reach it)."""
    for parent in (folder, *folder.parents):
        if parent.exists() and not os.stat(parent).st_mode & 0o001:
            return False
    return True


@dataclass
class PostgresCluster:
    """A running throwaway cluster; connect as ``postgres`` over ``socket_dir``."""

    root: Path
    tools: dict[str, Path]
    owned_root: bool
    user: str = "postgres"
    port: int = 5432

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def conninfo(self) -> str:
        """A libpq connection string for the socket."""
        return f"host={self.socket_dir} port={self.port} user={self.user} dbname=postgres"

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    @contextmanager
    def start_in(cls, tmp_path: Path) -> Iterator[PostgresCluster]:
        """Create, start, yield and finally stop and remove a cluster (skips when not installed)."""
        tools = pg_binaries()
        if tools is None:
            skip_or_fail("PostgreSQL (initdb, pg_ctl, psql) is not installed")
            raise AssertionError("unreachable")  # pragma: no cover - skip/fail raise
        root, owned = cls._make_root(tmp_path)
        cluster = cls(root=root, tools=tools, owned_root=owned)
        try:
            cluster._init_and_start()
            yield cluster
        finally:
            cluster._stop()
            if owned:
                shutil.rmtree(root, ignore_errors=True)

    @staticmethod
    def _make_root(tmp_path: Path) -> tuple[Path, bool]:
        root = tmp_path / "pg"
        usable = len(str(root / "sock")) <= _MAX_SOCKET_DIR
        if _runs_as_root():
            usable = usable and _reachable_by_others(tmp_path)
        if usable:
            root.mkdir(parents=True, exist_ok=True)
            return root, False
        # pytest's folder is private to root or too deep for a socket: use a short one we own.
        return Path(tempfile.mkdtemp(prefix="gg-pg-")), True

    def _cmd(self, args: Sequence[str]) -> list[str]:
        return ["runuser", "-u", self.user, "--", *args] if _runs_as_root() else list(args)

    def _run(self, args: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self._cmd(args), capture_output=True, text=True, check=False, **kwargs
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        return result

    def _init_and_start(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if _runs_as_root():
            os.chmod(self.root, 0o755)
            subprocess.run(["chown", "-R", f"{self.user}:", str(self.root)], check=True)
        else:
            self.user = os.environ.get("USER") or "postgres"
        self._run(
            [
                str(self.tools["initdb"]),
                "-D", str(self.data_dir),
                "-U", self.user,
                "-A", "trust",
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )  # fmt: skip
        options = f"-k {self.socket_dir} -c listen_addresses='' -F -c TimeZone=UTC"
        self._run(
            [
                str(self.tools["pg_ctl"]),
                "-D", str(self.data_dir),
                "-o", options,
                "-l", str(self.root / "server.log"),
                "-w", "-t", "60",
                "start",
            ]
        )  # fmt: skip

    def _stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(
                self._cmd(
                    [
                        str(self.tools["pg_ctl"]),
                        "-D",
                        str(self.data_dir),
                        "-m",
                        "fast",
                        "-w",
                        "stop",
                    ]
                ),
                capture_output=True,
                check=False,
            )

    # -- use ---------------------------------------------------------------------------------

    def psql(self, sql: str, *, stdin: str | None = None) -> str:
        """Run ``sql`` through psql (unaligned, tuples only) and return its output."""
        args = [
            str(self.tools["psql"]),
            "-X", "-q", "-A", "-t",
            "-v", "ON_ERROR_STOP=1",
            "-h", str(self.socket_dir),
            "-p", str(self.port),
            "-U", self.user,
            "-d", "postgres",
            "-c", sql,
        ]  # fmt: skip
        return self._run(args, input=stdin).stdout

    def connect(self) -> Any:
        """A psycopg connection (autocommit), importing psycopg only now: it is optional."""
        import psycopg

        return psycopg.connect(self.conninfo, autocommit=True)
