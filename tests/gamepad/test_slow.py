"""Slow: a whole mathcomp file extracted (every Qed of it, no failure)."""

from __future__ import annotations

import re

import pytest

from ilya.gamepad.corpus import mathcomp_dir
from ilya.gamepad.extract import extract_file
from ilya.gamepad.sentences import split_sentences


@pytest.mark.slow
def test_whole_mathcomp_file() -> None:
    path = mathcomp_dir() / "ssreflect" / "div.v"
    res = extract_file(path, "ssreflect/div.v")
    assert res.failures == []
    qeds = sum(1 for s in split_sentences(path.read_text()) if s.text in ("Qed.", "Defined."))
    assert sum(lm.qed for lm in res.lemmas) == qeds
    steps = sum(len(lm.steps) for lm in res.lemmas)
    assert steps >= qeds  # every proof has a step
    names = {lm.name for lm in res.lemmas}
    assert {"edivnP", "modnD", "gcdnC", "Bezoutl"} <= names
    # every recorded state has a conclusion; the shared table is smaller than the unfolded trees
    sizes = [res.table.size(g.concl) for lm in res.lemmas for s in lm.steps for g in s.goals]
    assert len(res.table) < sum(sizes)
    assert not [lab for lab, _ in res.table.nodes if re.fullmatch(r"\s*", lab)]
