"""pytest plugin (``pytest11`` entry point ``govgate``): govgate's checks as test items.

Opt in with ``pytest --govgate`` (configuration found as ``govgate check`` finds it),
``--govgate=CONFIG``, or the ini key ``govgate`` (``true`` or a configuration path). Every rule
and subject becomes an item with a readable id such as ``govgate::reconcile::epsilon[tickets_p95]``
and one status item, ``govgate::gate``, carries the verdict, so pytest fails exactly when
``govgate check`` exits 1. Inputs that cannot be read are a collection error (pytest exits 2,
like govgate's exit 2). The evaluation never pages and never writes the ledger or reports.

pytest loads this module in every run of an environment that has govgate installed, so it
imports nothing from govgate until ``--govgate`` is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from _pytest._code.code import ExceptionInfo, TerminalRepr, TracebackStyle

    from .model import Finding, GateResult

_OFF = {"", "0", "false", "no", "off"}
_ON = {"1", "true", "yes", "on"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("govgate", "release-gate checks (govgate)")
    group.addoption(
        "--govgate", nargs="?", const=True, default=None, metavar="CONFIG",
        help="run govgate's checks as test items, with the configuration found as "
             "'govgate check' finds it or CONFIG (write --govgate=CONFIG, since a bare word "
             "after --govgate is taken as CONFIG)")
    group.addoption("--govgate-as-of", metavar="INSTANT", default=None,
                    help="evaluate as of this UTC instant (default: now)")
    group.addoption("--govgate-plugin", dest="govgate_plugins", action="append", default=[],
                    metavar="PLUGIN", help="load a govgate plugin (like 'govgate -p')")
    parser.addini("govgate", "run govgate's checks: 'true' or a configuration path",
                  default="")
    parser.addini("govgate_as_of", "as-of instant for the govgate checks (default: now)",
                  default="")


def _wanted(config: pytest.Config) -> tuple[bool, Path | None]:
    """(enabled, explicit configuration path)."""
    option = config.getoption("govgate")
    if option is True:
        return True, None
    if isinstance(option, str) and option:
        return True, Path(option)
    value = str(config.getini("govgate")).strip()
    if value.lower() in _OFF:
        return False, None
    if value.lower() in _ON:
        return True, None
    return True, config.rootpath / value


def pytest_configure(config: pytest.Config) -> None:
    if _wanted(config)[0]:
        config.addinivalue_line("markers", "govgate: a govgate release-gate check")


class CheckFailed(Exception):
    """A govgate check failed; the message is the whole failure text (no traceback)."""


class GovgateCollector(pytest.Collector):
    """The ``govgate`` node: evaluates once, yields a collector per rule family and the gate."""

    def __init__(self, *, config_path: Path | None, as_of: str | None,
                 plugins: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config_path = config_path
        self.as_of_text = as_of
        self.plugins = plugins
        self.result: GateResult | None = None
        self.config_file: Path | None = None
        self.base: Path | None = None

    def _evaluate(self) -> GateResult:
        import io
        from datetime import UTC

        from .commands import Session
        from .evaluate import evaluate
        from .timeutil import parse_instant

        # The one clock read, as in the CLI: the default as-of instant, to whole seconds.
        as_of: datetime = (parse_instant(self.as_of_text, source="--govgate-as-of")
                           if self.as_of_text else datetime.now(UTC).replace(microsecond=0))
        cwd = self.config.invocation_params.dir
        path = self.config_path
        session = Session(as_of=as_of, out=io.StringIO(), err=io.StringIO(), cwd=cwd,
                          plugins=list(self.plugins),
                          config_path=cwd / path if path and not path.is_absolute() else path)
        govgate_config = session.config()
        self.config_file = govgate_config.path
        self.base = govgate_config.base
        result, _ = evaluate(govgate_config, session.pm, as_of)
        return result

    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        from .reporters.findings import family

        self.result = self._evaluate()
        families: dict[str, dict[tuple[str, str], list[Finding]]] = {}
        for f in self.result.findings:
            families.setdefault(family(f.rule), {}).setdefault((f.rule, f.subject), []).append(f)
        nodes: list[pytest.Item | pytest.Collector] = [
            FamilyCollector.from_parent(self, name=name, checks=families[name])
            for name in sorted(families)
        ]
        nodes.append(GateItem.from_parent(self, name="gate"))
        return nodes

    def repr_failure(  # type: ignore[override]
        self, excinfo: ExceptionInfo[BaseException]
    ) -> str | TerminalRepr:
        from .errors import GovgateError

        if isinstance(excinfo.value, GovgateError):
            return f"govgate: error: {excinfo.value}"
        return super().repr_failure(excinfo)


class FamilyCollector(pytest.Collector):
    """One rule family (``reconcile``, ``fatigue``, ...): an item per rule and subject."""

    def __init__(self, *, checks: dict[tuple[str, str], list[Finding]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.checks = checks

    def collect(self) -> Iterable[pytest.Item]:
        from .reporters.findings import rule_name

        for (rule, subject), findings in sorted(self.checks.items()):
            yield CheckItem.from_parent(self, name=f"{rule_name(rule)}[{subject}]",
                                        rule=rule, subject=subject, findings=findings)


def _root(node: pytest.Item) -> GovgateCollector:
    for parent in node.iter_parents():
        if isinstance(parent, GovgateCollector):
            return parent
    raise RuntimeError("a govgate item outside the govgate collector")


class _GovgateItem(pytest.Item):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_marker("govgate")

    def repr_failure(
        self, excinfo: ExceptionInfo[BaseException], style: TracebackStyle | None = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


def _describe(f: Finding) -> str:
    mark = ("BLOCKS" if f.blocking else
            f"waived by {f.waived_by}" if f.waived_by else f.severity.value)
    lines = [f"{f.rule} [{mark}] {f.subject}: {f.message}"]
    if f.owner_route:
        lines.append(f"  owner_route: {f.owner_route}")
    if f.location is not None:
        lines.append(f"  at: {f.location.render()}")
    return "\n".join(lines)


class CheckItem(_GovgateItem):
    """One rule about one subject; fails when one of its findings blocks the gate."""

    def __init__(self, *, rule: str, subject: str, findings: list[Finding],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rule = rule
        self.subject = subject
        self.findings = findings
        self.user_properties.append(("govgate_rule", rule))
        self.user_properties.append(("govgate_subject", subject))

    def runtest(self) -> None:
        root = _root(self)
        assert root.result is not None
        text = "\n".join(_describe(f) for f in self.findings)
        blocking = [f for f in self.findings if f.blocking]
        # Blocking findings fail their item only when the gate is blocked, so pytest fails
        # exactly when `govgate check` exits 1 (a gate plugin may decide otherwise).
        if blocking and not root.result.passed:
            raise CheckFailed(text)
        if not blocking and all(f.waived_by is not None for f in self.findings):
            # Reported at the item's location (the waived finding's file), as marker skips are.
            raise pytest.skip.Exception(text.replace("\n", " "), _use_item_location=True)

    def reportinfo(self) -> tuple[Path | str, int | None, str]:
        root = _root(self)
        loc = self.findings[0].location
        if loc is not None and root.base is not None and "://" not in loc.path:
            return root.base / loc.path, (loc.line - 1 if loc.line else 0), self.nodeid
        return root.config_file or "govgate", 0, self.nodeid


class GateItem(_GovgateItem):
    """The overall verdict: fails exactly when the gate is blocked."""

    def runtest(self) -> None:
        root = _root(self)
        result = root.result
        assert result is not None
        if result.passed:
            return
        lines = [f"govgate gate BLOCKED (governance state {result.state.value}): "
                 f"{len(result.blocking)} blocking of {len(result.findings)} findings"]
        lines += [_describe(f) for f in result.blocking]
        raise CheckFailed("\n".join(lines))

    def reportinfo(self) -> tuple[Path | str, int | None, str]:
        return _root(self).config_file or "govgate", 0, self.nodeid


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    # tryfirst: the items exist before -k/-m deselection and --lf reordering run.
    enabled, path = _wanted(config)
    if not enabled:
        return
    as_of = config.getoption("govgate_as_of") or str(config.getini("govgate_as_of")) or None
    collector = GovgateCollector.from_parent(
        session, name="govgate", nodeid="govgate", config_path=path, as_of=as_of,
        plugins=list(config.getoption("govgate_plugins")))
    # genitems reports a collection error the normal way (pytest then exits 2).
    items.extend(session.genitems(collector))
