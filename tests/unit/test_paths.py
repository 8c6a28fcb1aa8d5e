"""Where govgate may write: a property over every reference made of hostile segments.

Either the reference is refused (one :class:`GovgateError`), or the path it names is inside the
configuration's folder, reached through no symbolic link, and really lies there once every
link on the disk is followed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govgate.errors import GovgateError
from govgate.paths import command_line_output, config_output

SEGMENTS = ["..", ".", "a", "b", "link-out", "link-in", "file", "", "new"]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``project/`` with a folder, a file, a link out of it and a link back into it."""
    root = tmp_path_factory.mktemp("paths")
    outside = root / "outside"
    project = root / "project"
    (project / "a" / "b").mkdir(parents=True)
    outside.mkdir()
    (project / "file").write_text("x", encoding="utf-8")
    (project / "link-out").symlink_to(outside, target_is_directory=True)
    (project / "link-in").symlink_to(project / "a", target_is_directory=True)
    (project / "a" / "link-out").symlink_to(outside, target_is_directory=True)
    return project, outside


def _links_below(base: Path, path: Path) -> list[Path]:
    current, found = base, []
    for part in path.relative_to(base).parts:
        current = current / part
        if current.is_symlink():
            found.append(current)
    return found


@settings(max_examples=200, deadline=None, derandomize=True)
@given(segments=st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=6),
       absolute=st.booleans(), folder=st.booleans())
def test_a_reference_is_refused_or_stays_inside_through_no_link(
        tree: tuple[Path, Path], segments: list[str], absolute: bool, folder: bool) -> None:
    project, outside = tree
    ref = "/".join(segments)
    if absolute:
        ref = str(project.parent / ref)
    if not ref.strip():
        return
    try:
        path = config_output(ref, project, what="output", folder=folder)
    except GovgateError as exc:
        assert str(exc).count("\n") == 0
        return
    assert path.is_relative_to(project)
    assert _links_below(project, path) == []
    assert Path(os.path.realpath(path)).is_relative_to(project)
    assert not Path(os.path.realpath(path)).is_relative_to(outside)


@pytest.mark.parametrize("ref", ["../outside", "link-out", "link-out/x", "a/link-out/x",
                                 "link-in", "link-in/x", "file/x", "a/../../outside/x", "\x00",
                                 " "])
def test_the_corpus_is_refused(tree: tuple[Path, Path], ref: str) -> None:
    project, _ = tree
    with pytest.raises(GovgateError):
        config_output(ref, project, what="output", folder=True)


def test_a_command_line_folder_outside_the_working_folder_is_allowed_but_not_a_link(
        tree: tuple[Path, Path]) -> None:
    project, outside = tree
    assert command_line_output(str(outside / "reports"), project, what="-o") == \
        outside / "reports"
    with pytest.raises(GovgateError, match="symbolic link"):
        command_line_output(str(project / "link-out"), project.parent, what="-o")
