"""The plugin manager factory, the built-in plugins and the hooks' typed entry points."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

import pluggy

from . import hookspecs
from .errors import UsageError

#: Built-in plugins by short name, in registration order. ``-p no:NAME`` disables one.
DEFAULT_PLUGINS: dict[str, str] = {
    "files": "govgate.sources.files",
    "https": "govgate.sources.https",
    "postgres": "govgate.sources.postgres",
    "reconcile": "govgate.checks.reconcile",
    "fatigue": "govgate.checks.fatigue",
    "promote": "govgate.promote.plugin",
    "references": "govgate.checks.references",
    "gate": "govgate.checks.gate",
    "outbox": "govgate.sinks.outbox",
    "webhook": "govgate.sinks.webhook",
    "reporters": "govgate.reporters.builtin",
    "ci-reporters": "govgate.reporters.ci",
    "waivers": "govgate.waivers",
    "documents": "govgate.documents.plugin",
    # Heat-map engines (govgate_reduce_events): the Python scanner is the fallback of the others.
    "engine-postgresql": "govgate.engines.postgres_engine",
    "engine-duckdb": "govgate.engines.duckdb_engine",
    "engine-python": "govgate.engines.python_engine",
}

#: Plugins the gate cannot work without; they cannot be disabled.
ESSENTIAL_PLUGINS: frozenset[str] = frozenset({"files", "gate"})

#: Extra hook specifications shipped by built-in packages (kept beside the code they serve).
EXTRA_HOOKSPECS: tuple[str, ...] = ("govgate.promote.hookspecs",)

ENTRY_POINT_GROUP = "govgate"


def implemented_only_by(caller: pluggy.HookCaller, modules: Iterable[str]) -> bool:
    """Whether every implementation of the hook ``caller`` comes from one of ``modules`` (by
    module name; an instance registered as a plugin is never one of them).

    Built-in plugins call their own rule directly when no other plugin implements its hook:
    going through pluggy costs microseconds per call, which adds up per signer-day, per metric
    and window, and per file of a long schedule.
    """
    names = set(modules)
    return all(getattr(impl.plugin, "__name__", None) in names for impl in caller.get_hookimpls())


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise UsageError(f"plugin module {name!r} was not found", where="-p") from None
        raise


def get_plugin_manager(
    plugins: Iterable[str] = (),
    *,
    load_entrypoints: bool = True,
) -> pluggy.PluginManager:
    """Build a fresh plugin manager for one run.

    :param plugins: ``-p`` values: a module to import and register, or ``no:NAME`` to block a
        plugin (built-in or from an entry point) before it is registered.
    :param load_entrypoints: Load third-party plugins of the ``govgate`` entry-point group.
    """
    pm = pluggy.PluginManager("govgate")
    pm.add_hookspecs(hookspecs)
    for spec_module in EXTRA_HOOKSPECS:
        pm.add_hookspecs(_import(spec_module))

    requested: list[str] = []
    for value in plugins:
        if value.startswith("no:"):
            name = value[3:]
            if name in ESSENTIAL_PLUGINS:
                raise UsageError(f"plugin {name!r} is essential and cannot be disabled", where="-p")
            pm.set_blocked(name)
        else:
            requested.append(value)

    for name, module in DEFAULT_PLUGINS.items():
        if not pm.is_blocked(name):
            pm.register(_import(module), name=name)
    if load_entrypoints:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for module in requested:
        if pm.is_blocked(module) or pm.has_plugin(module):
            continue
        pm.register(_import(module), name=module)
    # A typo in a hookimpl name must fail loudly, not be silently ignored.
    pm.check_pending()
    return pm
