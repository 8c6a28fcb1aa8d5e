"""A project run elsewhere: its configuration with absolute inputs and every output moved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def relocated_config(project: Path, dest: Path) -> Path:
    """Write ``dest/govgate.yaml``: ``project``'s configuration with absolute input paths (reads
    outside ``dest`` allowed) and its outputs, ledger and outbox under ``dest``.

    Two runs that must compare byte for byte use the same ``dest``: the configuration names it,
    and the evidence manifest digests the configuration.
    """
    data: dict[str, Any] = yaml.safe_load((project / "govgate.yaml").read_text("utf-8"))

    def absolute(section: dict[str, Any]) -> None:
        for key, value in section.items():
            if isinstance(value, dict):
                absolute(value)
            elif isinstance(value, str) and (project / value).exists():
                section[key] = str((project / value).resolve())

    absolute(data)
    data.setdefault("sources", {})["allow_outside"] = True
    data["output"] = str(dest / "out")
    data["ledger"] = str(dest / "ledger.jsonl")
    if isinstance(data.get("paging"), dict):
        data["paging"]["outbox"] = str(dest / "outbox.jsonl")
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / "govgate.yaml"
    path.write_text(yaml.safe_dump(data), "utf-8")
    return path
