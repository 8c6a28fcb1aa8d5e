"""The duplicate ``ack_event_id`` check: ordered exports take a shortcut that must stay exact."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from tests.unit.fatigue.test_fatigue_events import GOOD, ROW, refuse

from govgate.fatigue.ids import EventIds


def ids_of(*chunks: list[str]) -> EventIds:
    ids = EventIds()
    for chunk in chunks:
        ids.add(chunk)
    return ids


def test_ordered_ids_have_no_suspects_and_stay_ordered() -> None:
    ids = ids_of([f"a{i:04d}" for i in range(100)], [f"a{i:04d}" for i in range(100, 250)])
    assert ids.ordered and ids.suspects() == set()
    assert (ids.first, ids.last) == ("a0000", "a0249")


@pytest.mark.parametrize(
    ("chunks", "repeated"),
    [
        ([["a1", "a2", "a2", "a3"]], "a2"),  # equal neighbours are not "increasing"
        ([["a1", "a2"], ["a2", "a3"]], "a2"),  # equal across a chunk boundary
        ([["a1", "a2", "a3"], ["a4", "a0", "a2"]], "a2"),  # order breaks, an earlier id repeats
        ([["b", "a", "c"], ["d", "a"]], "a"),  # never ordered
    ],
)
def test_repeats_are_suspects(chunks: list[list[str]], repeated: str) -> None:
    ids = ids_of(*chunks)
    assert not ids.ordered
    assert ids.suspects() == {hash(repeated)}


def test_empty_ids_are_suspects_in_order_or_not() -> None:
    assert hash("") in ids_of(["", "a", "b"]).suspects()
    assert hash("\x00") in ids_of(["\x00", "a"]).suspects()
    assert ids_of(["", "\x00", "a"]).suspects() == {hash(""), hash("\x00")}
    assert hash("") in ids_of(["b", "", "a"]).suspects()


def test_extend_joins_parts_in_file_order() -> None:
    first, second = ids_of(["a1", "a2"]), ids_of(["a3", "a4"])
    first.extend(second)
    assert first.ordered and first.suspects() == set() and first.last == "a4"
    meet = ids_of(["a1", "a3"])
    meet.extend(ids_of(["a3", "a4"]))  # the second part starts with the first's last id
    assert not meet.ordered and meet.suspects() == {hash("a3")}
    mixed = ids_of(["a1", "a5"])
    mixed.extend(ids_of(["a9", "a1"]))  # the later part is out of order, repeating the first
    assert mixed.suspects() == {hash("a1")}
    empty = EventIds()
    empty.extend(ids_of(["z"]))
    empty.extend(EventIds())
    assert empty.ordered and (empty.first, empty.last) == ("z", "z")


def test_suspects_match_a_plain_count_on_random_ids() -> None:
    rng = random.Random(7)
    for _ in range(50):
        pool = [f"id{rng.randrange(300)}" for _ in range(rng.randrange(1, 400))]
        if rng.random() < 0.5:
            pool.sort()
        chunks = []
        while pool:
            size = rng.randrange(1, 60)
            chunks.append(pool[:size])
            pool = pool[size:]
        ids = ids_of(*chunks)
        flat = [i for chunk in chunks for i in chunk]
        repeated = {hash(i) for i in flat if flat.count(i) > 1}
        assert ids.suspects() == repeated


def test_a_zero_padded_export_repeating_an_earlier_id(tmp_path: Path) -> None:
    rows = [ROW.replace("a1", f"ae-{i:05d}") for i in range(3000)]
    rows[2500] = rows[2500].replace("ae-02500", "ae-00017")
    error = refuse(tmp_path, GOOD + "\n".join(rows) + "\n")
    assert error.where == "row 2502, column ack_event_id"
    assert "rows 19 and 2502" in error.message


def test_a_zero_padded_export_repeating_the_previous_row(tmp_path: Path) -> None:
    rows = [ROW.replace("a1", f"ae-{i:05d}") for i in range(3000)]
    rows[1234] = rows[1233]
    error = refuse(tmp_path, GOOD + "\n".join(rows) + "\n")
    assert error.where == "row 1236, column ack_event_id"
    assert "rows 1235 and 1236" in error.message
