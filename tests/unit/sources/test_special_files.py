"""Only regular files are read, within the size cap, and the cap holds while reading.

The class: an input that is not a regular file (a FIFO nobody writes to, a device that never
ends, a socket, a folder) or whose size ``stat`` misstates (it grows, or it is a ``/proc`` file
of "size 0") must end in exit code 2 with a message naming it, never block, never read until
memory runs out, and never write anything. Every input path is covered: the file source, the
streaming events loader, ``validate``, the configuration file, and the command-line options.
"""

from __future__ import annotations

import os
import socket
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.conftest import Project, Schedule, run_cli

from govgate.errors import ExitCode, SourceError
from govgate.fatigue.events import load_events
from govgate.sources import files
from govgate.sources.files import open_input, read_input

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX special files")

EVENTS = (
    "ack_event_id,signer_id,owner_route,cert_window_id,request_dt_utc,ack_dt_utc,ack_outcome,"
    "sla_target_hours\n"
    "ae-1,alex,publish_gate,cw-1,2026-11-16 10:00:00+00,2026-11-16 10:10:00+00,approved,0.50\n"
)


def make_fifo(path: Path) -> None:
    os.mkfifo(path)


def make_socket(path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()  # the socket file stays


def make_device(path: Path) -> None:
    try:  # /dev/zero's numbers: reading it never ends
        os.mknod(path, stat.S_IFCHR | 0o644, os.makedev(1, 5))
    except PermissionError:
        pytest.skip("creating a device node needs privileges")


def make_folder(path: Path) -> None:
    path.mkdir()


SPECIAL: dict[str, tuple[Callable[[Path], None], str]] = {
    "fifo": (make_fifo, "expected a regular file, found a FIFO (named pipe)"),
    "socket": (make_socket, "expected a regular file, found a socket"),
    "device": (make_device, "expected a regular file, found a device"),
    "folder": (make_folder, "expected a regular file, found a folder"),
}


@pytest.fixture(params=sorted(SPECIAL))
def special(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A special file (the param's kind) and the message that refuses it."""
    make, message = SPECIAL[request.param]
    path = tmp_path / "special.csv"
    make(path)
    yield path, message


def test_the_file_source_refuses_anything_but_a_regular_file(special: tuple[Path, str]) -> None:
    path, message = special
    with pytest.raises(SourceError) as info:
        files.govgate_read_source(ref=path.name, base=path.parent, settings={})
    assert str(info.value) == f"special.csv: {message}"
    assert info.value.exit_code == ExitCode.USAGE_ERROR


def test_the_events_loader_refuses_anything_but_a_regular_file(special: tuple[Path, str]
                                                               ) -> None:
    path, message = special
    with pytest.raises(SourceError) as info:
        load_events(path, source="signer_ack_event.csv")
    assert str(info.value) == f"signer_ack_event.csv: {message}"


def test_a_symlink_to_a_device_is_refused_even_when_outside_paths_are_allowed(
    tmp_path: Path
) -> None:
    (tmp_path / "events.csv").symlink_to("/dev/zero")
    with pytest.raises(SourceError, match="found a device"):
        files.govgate_read_source(ref="events.csv", base=tmp_path,
                                  settings={"allow_outside": True})


@pytest.mark.parametrize("kind", sorted(SPECIAL))
def test_check_exits_2_naming_a_special_input_and_writes_nothing(
    make_project: Callable[..., Project], kind: str
) -> None:
    project = make_project()
    make, message = SPECIAL[kind]
    project.runs_path.unlink()
    make(project.runs_path)
    result = project.check(Schedule.after(6))
    assert (result.code, result.out) == (2, "")
    assert result.err == f"govgate: error: scheduler_runs.csv: {message}\n"
    assert not project.output.exists() and not project.ledger.exists()


def test_check_exits_2_for_fatigue_events_that_are_a_fifo(make_project: Callable[..., Project]
                                                          ) -> None:
    project = make_project()
    make_fifo(project.root / "events.csv")
    project.update_config(fatigue={"events": "events.csv"})
    result = project.check(Schedule.after(6))
    assert result.code == 2
    assert result.err == ("govgate: error: events.csv: expected a regular file, found a FIFO "
                          "(named pipe)\n")


@pytest.mark.parametrize("args", [
    ["validate", "special.csv"],
    ["validate", "--kind", "scheduler_run", "special.csv"],
    ["heatmap", "--events", "special.csv", "--as-of", "2026-11-20T00:00:00Z"],
    ["-c", "{tmp}/special.csv", "check"],
])
def test_commands_refuse_a_fifo_on_the_command_line(tmp_path: Path, args: list[str]) -> None:
    make_fifo(tmp_path / "special.csv")
    result = run_cli([a.format(tmp=tmp_path) for a in args], tmp_path)
    assert result.code == 2
    assert "special.csv: expected a regular file, found a FIFO (named pipe)" in (
        result.out + result.err)


# --- the size cap holds while reading -------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/maps").is_file(), reason="needs /proc")
def test_a_file_whose_stat_size_lies_is_cut_off_at_the_cap() -> None:
    # /proc files are regular files of "size 0" with content: stat alone would let it through.
    assert os.stat("/proc/self/maps").st_size == 0
    with pytest.raises(SourceError, match="grew past the limit of 10 bytes while it was read"):
        read_input(Path("/proc/self/maps"), "maps", 10)


def test_a_file_above_the_cap_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    path.write_bytes(b"x" * 11)
    with pytest.raises(SourceError, match="file is 11 bytes, above the limit of 10"):
        open_input(path, "runs.csv", 10)
    assert read_input(path, "runs.csv", 11) == b"x" * 11  # exactly at the cap is read


def test_the_streaming_events_loader_stops_a_file_that_grows_past_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.csv"
    path.write_text(EVENTS + EVENTS.splitlines(keepends=True)[1].replace("ae-1", "ae-2"),
                    encoding="utf-8")
    size = path.stat().st_size
    # The file was within the cap when it was checked and opened, then grew: the loader reads
    # in chunks and counts what it reads.
    real_open = files.open_input
    monkeypatch.setattr(files, "open_input",
                        lambda p, ref, limit: real_open(p, ref, 1 << 30))
    with pytest.raises(SourceError, match=f"grew past the limit of {size - 1} bytes"):
        load_events(path, source="events.csv", max_bytes=size - 1)
