"""The signer FAQ states the red rule with the policy's red_after_missed, not a fixed two."""

from __future__ import annotations

import pytest

from govgate.documents.faq import _red_rule


@pytest.mark.parametrize("missed,words", [(1, "the most recent scheduled window has"),
                                          (2, "the two most recent scheduled windows"),
                                          (3, "the 3 most recent scheduled windows")])
def test_red_rule_follows_red_after_missed(missed: int, words: str) -> None:
    assert words in _red_rule(missed)
