"""Kill ``govgate check`` at every I/O point of a run that pages, re-run it, lose nothing.

A forked child runs the whole command with the I/O primitives wrapped: at the k-th call it dies
(``os._exit``, no clean-up) before the call, right after it, or, for a write, half-way through
it. The parent then re-runs the command normally and checks that the ledger verifies and holds
exactly the records of an uninterrupted run, the outbox too, and that every page event reached
the 127.0.0.1 webhook at least once and is recorded once. k runs until a child finishes.
Concurrent runs: several processes at once send each event exactly once.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from tests.conftest import Project, iso, run_cli
from tests.support.httpserver import HTTPTestServer, Response

from govgate.ledger import Ledger

FORK = multiprocessing.get_context("fork")
ENV = "GOVGATE_TEST_ROUTING_KEY"
KILLED = 77
NOT_A_WRITE = 78  # torn mode, and the k-th call is not a write: nothing to tear


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPTestServer]:
    with HTTPTestServer(default=Response.json({"status": "success"}, status=202)) as srv:
        yield srv


@pytest.fixture(autouse=True)
def routing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "key-for-the-crash-tests")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, server: HTTPTestServer) -> Project:
    """Weeks 5 and 6 skipped, weeks 7 and 8 PASS: a red and a gap episode, both resolved."""
    from tests.conftest import make_project

    project = make_project(tmp_path_factory.mktemp("crash") / "template", weeks=8,
                           skips={5: "maintenance", 6: "maintenance"})
    hook = {"url": server.url("/v2/enqueue"), "routing_key_env": ENV, "allow_http": True,
            "max_attempts": 1}
    project.update_config(paging={"outbox": ".govgate/pager-outbox.jsonl", "webhook": hook})
    return project


def as_of(project: Project) -> str:
    from tests.conftest import Schedule

    return iso(Schedule.after(8))


def copy(template: Project, dest: Path) -> Project:
    shutil.copytree(template.root, dest)
    return Project(dest)


def facts(path: Path) -> Counter[tuple[str, str]]:
    ledger = Ledger(path)
    report = ledger.verify()
    assert report.ok and not report.torn_tail, report.problem
    return Counter((r.key, repr(sorted(r.data.items()))) for r in ledger.records())


def sent(server: HTTPTestServer, since: int) -> Counter[tuple[str, str]]:
    return Counter((r.json()["dedup_key"], r.json()["event_action"])
                   for r in server.requests[since:])


# -- the fault hooks (installed in the forked child only) -------------------------------------


def _install(k: int, mode: str) -> None:
    calls = [0]

    def hit() -> bool:
        calls[0] += 1
        return calls[0] == k

    def wrap(module: Any, name: str) -> None:
        real = getattr(module, name)

        def faulty(*args: Any, **kwargs: Any) -> Any:
            if not hit():
                return real(*args, **kwargs)
            if mode == "before":
                os._exit(KILLED)
            if mode == "torn" and name != "write":
                os._exit(NOT_A_WRITE)
            if mode == "torn" and name == "write":
                fd, data = args
                real(fd, bytes(data)[: max(1, len(data) // 2)])
                os._exit(KILLED)
            result = real(*args, **kwargs)
            os._exit(KILLED)
            return result  # pragma: no cover

        setattr(module, name, faulty)

    for name in ("write", "fsync", "ftruncate", "replace", "rename"):
        wrap(os, name)
    wrap(requests.Session, "post")


def _child(root: Path, when: str, k: int, mode: str) -> None:
    _install(k, mode)
    code = run_cli(["check", "--as-of", when, "--format", "json"], root).code
    os._exit(code)


def run_with_fault(root: Path, when: str, k: int, mode: str) -> int:
    child = FORK.Process(target=_child, args=(root, when, k, mode))
    child.start()
    child.join(timeout=120)
    assert child.exitcode is not None
    return child.exitcode


@pytest.mark.parametrize("mode", ["before", "after", "torn"])
def test_killed_at_any_io_point_then_rerun_loses_and_duplicates_nothing(
        template: Project, server: HTTPTestServer, tmp_path: Path, mode: str) -> None:
    when = as_of(template)
    reference = copy(template, tmp_path / "reference")
    start = len(server.requests)
    assert run_cli(["check", "--as-of", when, "--format", "json"], reference.root).code == 0
    events = sent(server, start)
    # Triggers and resolves (of the red and of the completion gap), each sent once.
    assert {action for _, action in events} == {"trigger", "resolve"}
    assert set(events.values()) == {1}
    want_ledger, want_outbox = facts(reference.ledger), facts(reference.outbox)

    points = 0
    for k in range(1, 500):
        project = copy(template, tmp_path / f"k{k}")
        start = len(server.requests)
        code = run_with_fault(project.root, when, k, mode)
        if code == NOT_A_WRITE:
            shutil.rmtree(project.root)
            continue
        if code != KILLED:
            assert code == 0
            break
        points += 1
        rerun = run_cli(["check", "--as-of", when, "--format", "json"], project.root)
        assert rerun.code == 0, (k, rerun.err)
        assert facts(project.ledger) == want_ledger, k
        assert facts(project.outbox) == want_outbox, k
        got = sent(server, start)
        assert set(got) == set(events), k  # every event delivered at least once
        # An event is sent twice only when the kill fell between its send and its receipt.
        assert sum(got.values()) - len(events) <= 1, (k, got)
        shutil.rmtree(project.root)
    assert points >= (8 if mode == "torn" else 20)  # all of the run's I/O points were tried


def _concurrent(root: Path, when: str, barrier: Any) -> None:
    barrier.wait()
    os._exit(run_cli(["check", "--as-of", when, "--format", "json"], root).code)


def test_concurrent_runs_send_each_event_once(template: Project, server: HTTPTestServer,
                                              tmp_path: Path) -> None:
    project = copy(template, tmp_path / "concurrent")
    when = as_of(template)
    start = len(server.requests)
    barrier = FORK.Barrier(6)
    children = [FORK.Process(target=_concurrent, args=(project.root, when, barrier))
                for _ in range(6)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
    assert [c.exitcode for c in children] == [0] * 6
    got = sent(server, start)
    assert len(got) >= 2 and set(got.values()) == {1}
    keys = [r.key for r in Ledger(project.ledger).records()]
    assert len(keys) == len(set(keys))
    assert Ledger(project.outbox).verify().ok
