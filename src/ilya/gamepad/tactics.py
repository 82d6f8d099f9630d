"""Tactic classes (the tactic-prediction labels) and steps-left bins (the position-evaluation labels).

The paper groups the tactics of the Feit-Thompson proofs into classes and adds ``other``; our corpus
(mathcomp) is written in the same SSReflect dialect, so the classes are the SSReflect tactics that carry
the proofs, plus the closing ``by``/``done`` and the few vanilla tactics.  A sentence's class is read off
its first tactic word: ``by rewrite addnC`` is ``by`` (the step closes the goal), ``move=> x`` is
``intro``, ``move/eqP`` and ``move: x`` are ``move``.
"""

from __future__ import annotations

import re

TACTIC_CLASSES: tuple[str, ...] = (
    "intro", "move", "apply", "exact", "rewrite", "case", "elim", "have", "by", "split", "exists",
    "simpl", "auto", "other",
)
POSITION_BINS: tuple[str, ...] = ("<5", "5-20", ">20")

_FIRST = re.compile(r"^\s*(?:\d+\s*:\s*|all\s*:\s*)?([A-Za-z_][\w']*|\[|\{)?(.*)$", re.S)
_MAP = {
    "intro": "intro", "intros": "intro",
    "apply": "apply", "eapply": "apply", "refine": "apply",
    "exact": "exact", "eexact": "exact",
    "rewrite": "rewrite", "erewrite": "rewrite", "unlock": "rewrite", "congr": "rewrite",
    "case": "case", "destruct": "case", "ecase": "case", "inversion": "case",
    "elim": "elim", "induction": "elim", "elim_": "elim",
    "have": "have", "suff": "have", "suffices": "have", "wlog": "have", "without": "have",
    "assert": "have", "pose": "have", "set": "have", "gen": "have",
    "by": "by", "done": "by", "trivial": "by", "reflexivity": "by", "assumption": "by",
    "contradiction": "by", "discriminate": "by", "easy": "by", "now": "by", "tauto": "auto",
    "split": "split", "constructor": "split", "left": "split", "right": "split",
    "exists": "exists", "eexists": "exists",
    "simpl": "simpl", "unfold": "simpl", "rewrite/": "simpl", "cbn": "simpl", "red": "simpl",
    "hnf": "simpl", "compute": "simpl", "cbv": "simpl", "change": "simpl", "fold": "simpl",
    "auto": "auto", "eauto": "auto", "lia": "auto", "ring": "auto", "field": "auto", "omega": "auto",
    "firstorder": "auto", "intuition": "auto",
}


def tactic_class(sentence: str) -> str:
    """The class of a tactic sentence (one of `TACTIC_CLASSES`)."""
    m = _FIRST.match(sentence)
    if m is None or m.group(1) is None:
        return "other"
    word, rest = m.group(1), m.group(2).lstrip()
    if word == "move":
        return "intro" if rest.startswith("=>") else "move"
    if word == "rewrite" and rest.startswith("/") and not rest.startswith("//"):
        return "rewrite"
    return _MAP.get(word, "other")


def position_bin(steps_left: int) -> int:
    """0: fewer than 5 steps left, 1: 5 to 20, 2: more than 20 (the paper's three bins)."""
    if steps_left < 5:
        return 0
    return 1 if steps_left <= 20 else 2
