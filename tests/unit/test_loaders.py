"""Documents, tables, schemas and the configuration: strict parsing with one-line errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from govgate.config import find_config, load_config
from govgate.errors import GovgateError
from govgate.loaders.documents import load_schema, parse_document, schema_kinds, validate
from govgate.loaders.tables import read_table, unique
from govgate.recon.loader import _utc_window, to_decimal

RUN_HEADER = "job_run_id,scheduled_at,started_at,completed_at,skip_reason,artifact_uri,status\n"
PASS_ROW = ("recon-2026-W39,2026-09-28T06:00:00Z,2026-09-28T06:05:00Z,2026-09-28T06:25:00Z,,,"
            "PASS\n")


def one_line_error(info: pytest.ExceptionInfo[GovgateError]) -> str:
    text = str(info.value)
    assert "\n" not in text and "\r" not in text
    return text


# -- documents ------------------------------------------------------------------------------


def test_yaml_keeps_line_numbers_per_pointer() -> None:
    doc = parse_document(b"a: 1\nb:\n  c: [1, 2]\n  d:\n    - x: 1\n", "f.yaml")
    assert doc.data == {"a": 1, "b": {"c": [1, 2], "d": [{"x": 1}]}}
    assert doc.line_of("/a") == 1
    assert doc.line_of("/b/c") == 3
    assert doc.line_of("/b/d/0/x") == 5
    assert doc.line_of("/b/d/0/missing") == 5  # nearest parent


def test_yaml_timestamps_stay_text() -> None:
    doc = parse_document(b"at: 2026-11-20T00:00:00\n", "f.yaml")
    assert doc.data["at"] == "2026-11-20T00:00:00"


def test_malformed_yaml_names_file_line_and_column() -> None:
    with pytest.raises(GovgateError) as info:
        parse_document(b"a: 1\nb: [1, 2\nc: 3\n", "govgate.yaml")
    text = one_line_error(info)
    assert text.startswith("govgate.yaml: line ")
    assert "invalid YAML" in text


def test_malformed_json_names_file_and_line() -> None:
    with pytest.raises(GovgateError) as info:
        parse_document(b'{\n  "a": 1,\n}\n', "leadership.json")
    text = one_line_error(info)
    assert text.startswith("leadership.json: line 3: invalid JSON")


@pytest.mark.parametrize("value", [".nan", ".NaN", ".inf", "-.inf"])
def test_yaml_nan_and_infinity_are_refused(value: str) -> None:
    with pytest.raises(GovgateError) as info:
        parse_document(f"metrics:\n  m: {{abs_tol: {value}}}\n".encode(), "eps.yaml")
    text = one_line_error(info)
    assert text.startswith("eps.yaml: line 2")
    assert "not a finite number" in text


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_json_nan_and_infinity_are_refused_naming_the_file(value: str) -> None:
    with pytest.raises(GovgateError) as info:
        parse_document(f'{{"rows": [{{"value": {value}}}]}}'.encode(), "jobs/x/leadership.json")
    text = one_line_error(info)
    assert value in text
    # BUG: _reject_constant raises without a source, so the user is not told which file.
    assert text.startswith("jobs/x/leadership.json")


def test_not_utf8_is_bad_input() -> None:
    with pytest.raises(GovgateError) as info:
        parse_document(b"a: \xff\n", "f.yaml")
    assert one_line_error(info).startswith("f.yaml: not UTF-8")


def test_empty_yaml_document_is_bad_input() -> None:
    with pytest.raises(GovgateError) as info:
        parse_document(b"", "f.yaml")
    assert "empty" in one_line_error(info)


def test_alias_bombs_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from govgate.loaders import documents

    # A lower ceiling keeps the test fast; aliases must still count at every use.
    monkeypatch.setattr(documents, "MAX_NODES", 5_000)
    lines = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i, name in enumerate("bcdefgh"):
        prev = "abcdefgh"[i]
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 10)}]")
    with pytest.raises(GovgateError) as info:
        parse_document("\n".join(lines).encode(), "bomb.yaml")
    assert "too large" in one_line_error(info)


def test_schema_errors_name_line_and_pointer() -> None:
    text = (b"job_run_id: r1\nleadership_rollup_query_id: q\npartner_annex_export_id: p\n"
            b"tuple_revision_hash: t\nepsilon_policy_version: 1.1.0\n"
            b"window_tz_policy: Europe/Berlin\nstart_inclusive: '2026-10-05T00:00:00Z'\n"
            b"end_exclusive: '2026-10-12T00:00:00Z'\n")
    doc = parse_document(text, "manifest.yaml")
    with pytest.raises(GovgateError) as info:
        validate(doc.data, "job_manifest", "manifest.yaml", doc)
    message = one_line_error(info)
    assert message.startswith("manifest.yaml: line 6, /window_tz_policy: ")
    assert "Europe/Berlin" in message


def test_missing_required_field_is_named() -> None:
    doc = parse_document(b"job_run_id: r1\n", "manifest.yaml")
    with pytest.raises(GovgateError) as info:
        validate(doc.data, "job_manifest", "manifest.yaml", doc)
    assert "missing required field" in one_line_error(info)


def test_schema_kinds_and_unknown_kind() -> None:
    kinds = schema_kinds()
    for kind in ("job_manifest", "scheduler_run", "config", "partner_annex", "run_ack",
                 "override_packet", "epsilon_policy", "reconciliation_policy"):
        assert kind in kinds
        assert load_schema(kind)["type"] == "object"
    with pytest.raises(GovgateError):
        load_schema("nope")


# -- tables ---------------------------------------------------------------------------------


def test_csv_rows_carry_their_line_and_empty_cells_are_none() -> None:
    rows = read_table((RUN_HEADER + PASS_ROW).encode(), "runs.csv", "scheduler_run")
    assert rows[0].number == 2
    assert rows[0].values["skip_reason"] is None
    assert rows[0].where("status") == "row 2, column status"


def test_csv_with_bom_and_blank_lines() -> None:
    rows = read_table(("\ufeff" + RUN_HEADER + "\n" + PASS_ROW).encode(), "runs.csv",
                      "scheduler_run")
    assert [r.number for r in rows] == [3]


@pytest.mark.parametrize(("body", "where"), [
    (PASS_ROW.replace("PASS", "DONE"), "row 2, column status"),
    (PASS_ROW.replace(",,,PASS", ",vacation,,SKIPPED"), "row 2, column skip_reason"),
    (PASS_ROW.replace(",PASS", ",PASS,extra"), "row 2"),
])
def test_csv_row_errors_name_row_and_column(body: str, where: str) -> None:
    with pytest.raises(GovgateError) as info:
        read_table((RUN_HEADER + body).encode(), "runs.csv", "scheduler_run")
    assert one_line_error(info).startswith(f"runs.csv: {where}")


def test_csv_duplicate_header_and_empty_file() -> None:
    with pytest.raises(GovgateError) as info:
        read_table(b"job_run_id,job_run_id\n", "runs.csv", "scheduler_run")
    assert "duplicate columns" in one_line_error(info)
    with pytest.raises(GovgateError) as info:
        read_table(b"", "runs.csv", "scheduler_run")
    assert "empty file" in one_line_error(info)


def test_unique_names_both_rows() -> None:
    rows = read_table((RUN_HEADER + PASS_ROW + PASS_ROW).encode(), "runs.csv", "scheduler_run")
    with pytest.raises(GovgateError) as info:
        unique(rows, "job_run_id")
    text = one_line_error(info)
    assert text.startswith("runs.csv: row 3, column job_run_id: duplicate job_run_id")
    assert "row 2" in text


def test_yaml_table_errors_name_the_row() -> None:
    with pytest.raises(GovgateError) as info:
        read_table(b"- ack_id: a1\n  signer_id: s\n  ack_dt_utc: '2026-10-01T00:00:00Z'\n"
                   b"- ack_id: a2\n  signer_id: s\n", "acks.yaml", "run_ack")
    assert one_line_error(info).startswith("acks.yaml: row 2, column ack_dt_utc")


# -- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("12.50", Decimal("12.50")), (3, Decimal(3)),
                                                 (0.1, Decimal("0.1")), ("-0", Decimal(0))])
def test_to_decimal(value: object, expected: Decimal) -> None:
    assert to_decimal(value, "f", "/v") == expected


@pytest.mark.parametrize("value", ["NaN", "Infinity", "abc", True, None, "", float("nan")])
def test_to_decimal_refuses_non_finite_and_non_numbers(value: object) -> None:
    with pytest.raises(GovgateError) as info:
        to_decimal(value, "leadership.json", "/rows/0/value")
    assert one_line_error(info).startswith("leadership.json: /rows/0/value: ")


@pytest.mark.parametrize("text", ["2026-10-05T00:00:00Z", "2026-10-05T00:00:00+00:00"])
def test_window_boundaries_in_utc_are_accepted(text: str) -> None:
    assert _utc_window(text, "m.yaml", "/start_inclusive").isoformat() == (
        "2026-10-05T00:00:00+00:00")


@pytest.mark.parametrize("text", ["2026-10-05T02:00:00+02:00", "2026-10-04T19:00:00-05:00"])
def test_window_boundaries_with_another_offset_are_refused(text: str) -> None:
    # The same instant, but window_tz_policy is UTC: the boundary must be written in UTC.
    with pytest.raises(GovgateError) as info:
        _utc_window(text, "jobs/r/manifest.yaml", "/start_inclusive")
    message = one_line_error(info)
    assert message.startswith("jobs/r/manifest.yaml: /start_inclusive: ")
    assert "not UTC" in message


# -- configuration --------------------------------------------------------------------------


def test_config_found_from_a_sub_folder(tmp_path: Path) -> None:
    (tmp_path / "govgate.yaml").write_text("policies: policies\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == tmp_path / "govgate.yaml"
    config = load_config(None, cwd=deep)
    assert config.base == tmp_path.resolve()
    assert config.output_dir == (tmp_path / "govgate-out").resolve()


def test_nearest_config_wins(tmp_path: Path) -> None:
    (tmp_path / "govgate.yaml").write_text("policies: outer\n")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / ".govgate.yaml").write_text("policies: inner\n")
    assert find_config(inner) == inner / ".govgate.yaml"


def test_pyproject_section_is_a_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.govgate]\npolicies = "p"\noutput = "out"\n')
    config = load_config(None, cwd=tmp_path)
    assert config.data == {"policies": "p", "output": "out"}
    assert config.output_dir == (tmp_path / "out").resolve()


def test_pyproject_without_the_section_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "govgate.yaml").write_text("policies: policies\n")
    sub = tmp_path / "pkg"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[tool.other]\nx = 1\n')
    assert find_config(sub) == tmp_path / "govgate.yaml"


def test_config_errors(tmp_path: Path) -> None:
    with pytest.raises(GovgateError) as info:
        load_config(None, cwd=tmp_path)
    assert "no configuration found" in one_line_error(info)
    with pytest.raises(GovgateError) as info:
        load_config(tmp_path / "missing.yaml", cwd=tmp_path)
    assert "not found" in one_line_error(info)
    (tmp_path / "govgate.yaml").write_text("policies: p\nblock_states: [red, purple]\n")
    with pytest.raises(GovgateError) as info:
        load_config(None, cwd=tmp_path)
    message = one_line_error(info)
    assert message.startswith(str(tmp_path / "govgate.yaml"))
    assert "/block_states/1" in message
    assert "purple" in message
