"""``docs/sources.md`` stays true: its examples validate, its table lists the readable columns."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from govgate.loaders.documents import validate
from govgate.sources.https import HttpsSettings
from govgate.sources.postgres import TABLES, PostgresSettings, parse_ref

DOC = Path(__file__).resolve().parents[3] / "docs" / "sources.md"


def yaml_examples() -> list[dict[str, Any]]:
    text = DOC.read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


@pytest.mark.parametrize("example", yaml_examples())
def test_the_configuration_examples_are_valid(example: dict[str, Any]) -> None:
    validate({"sources": example["sources"]}, "config", str(DOC))
    HttpsSettings.from_settings(example["sources"])
    PostgresSettings.from_settings(example["sources"])
    for ref in example["reconciliation"].values():
        if ref.startswith("postgresql://"):
            parse_ref(ref)


def test_the_table_of_readable_columns_is_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    for table in TABLES.values():
        (row,) = [line for line in text.splitlines() if line.startswith(f"  | `{table.name}` |")]
        assert re.findall(r"`([a-z_0-9]+)`", row.split("|")[2]) == list(table.columns)
