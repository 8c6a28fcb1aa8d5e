"""Sub-commands of ``govgate``: each module has NAME, HELP, add_arguments() and run()."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import pluggy

    from ..config import Config

#: Sub-command modules, in the order ``govgate --help`` lists them.
COMMANDS: tuple[str, ...] = (
    "check", "heatmap", "promote", "simulate", "schema", "ledger", "validate",
    "readback", "review", "checklist", "faq", "hash", "init", "verify",
)


@dataclass
class Session:
    """What every command gets: the as-of instant, streams, and lazily the config and plugins."""

    as_of: datetime
    out: TextIO
    err: TextIO
    cwd: Path
    plugins: list[str] = field(default_factory=list)
    config_path: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)
    _pm: pluggy.PluginManager | None = None
    _config: Config | None = None

    @property
    def pm(self) -> pluggy.PluginManager:
        if self._pm is None:
            from ..plugins import get_plugin_manager

            self._pm = get_plugin_manager(self.plugins)
        return self._pm

    def config(self) -> Config:
        if self._config is None:
            from ..config import load_config

            self._config = load_config(self.config_path, cwd=self.cwd, options=self.options)
            from ..weakened import declared

            wanted = [*self._config.data.get("plugins", []),
                      *(f"no:{name}" for name in declared(self._config))]
            extra = [p for p in wanted if p not in self.plugins]
            if extra and self._pm is None:
                self.plugins = [*self.plugins, *extra]
            # A disabled rule family or pager is not refused here: it is a blocking finding in
            # every output unless the configuration declares it (govgate.weakened).
            self.pm.hook.govgate_configure.call_historic(kwargs={"config": self._config})
        return self._config
