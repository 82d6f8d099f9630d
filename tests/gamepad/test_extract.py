"""Sentence splitting, term trees and extraction on small .v files, checked against coqtop's own output."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from ilya.core.errors import IlyaError
from ilya.gamepad.coqtop import INSTALL_HINT, CoqTimeout, Coqtop, coqtop_path
from ilya.gamepad.extract import extract_corpus, extract_file, lemma_split, read_file_record
from ilya.gamepad.sentences import split_sentences
from ilya.gamepad.tactics import position_bin, tactic_class
from ilya.gamepad.terms import TermTable, parse_term, tokenize

SMALL = """(* a comment . with a full stop (* nested *) *)
Require Import Arith.
Lemma foo (n m : nat) (H : n = m) : n + 0 = m /\\ m = n.
Proof.
split.
- rewrite <- plus_n_O. exact H.
- symmetry. exact H.
Qed.
Theorem baz : forall A B : Prop, A -> B -> A.
Proof.
  intros A B a b.
  { exact a. }
Qed.
"""


def _strip(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t not in ("(", ")")]


def test_splitter_comments_strings_bullets_braces() -> None:
    text = 'Definition s := "a. ""b"" c.".\n(* x. (* y. *) *) Lemma l : True.\nProof.\n- by [].\n+ { idtac. }\nQed.\n'
    got = [(s.text, s.line) for s in split_sentences(text)]
    assert got == [('Definition s := "a. ""b"" c.".', 1), ("Lemma l : True.", 2), ("Proof.", 3),
                   ("-", 4), ("by [].", 4), ("+", 5), ("{", 5), ("idtac.", 5), ("}", 5), ("Qed.", 6)]
    # qualified names and ssreflect's x.+1 do not end a sentence
    assert [s.text for s in split_sentences("Check Nat.add x.+1.\n")] == ["Check Nat.add x.+1."]
    assert [s.text for s in split_sentences("2: { done. }\n")] == ["2: {", "done.", "}"]


def test_splitter_reports_unclosed_comment_with_line() -> None:
    with pytest.raises(IlyaError) as e:
        split_sentences("Lemma a : True.\n(* never closed\n", "x.v")
    assert e.value.line == 2 and e.value.file == "x.v"


def test_terms_are_hash_consed_and_print_back() -> None:
    table = TermTable()
    t = parse_term("@eq nat (addn (S n) (S n)) (S n)", table)
    assert table.label(t) == "app"
    head, ty, lhs, rhs = table.children(t)
    assert table.label(head) == "@eq" and table.label(ty) == "nat"
    a, b = table.children(lhs)[1:]
    assert a == b == rhs  # the three occurrences of (S n) are one node
    assert table.size(t) == 14 and len(table.reachable([t])) == 8
    assert _strip(tokenize(table.to_text(t))) == _strip(tokenize("@eq nat (addn (S n) (S n)) (S n)"))
    f = parse_term("forall (x : nat) (_ : @eq nat x O), match x return nat with | O => O | S k => k end", table)
    assert table.label(f) == "forall" and table.label(table.children(f)[0]) == "binder:x"
    assert "raw" not in {table.label(i) for i in table.reachable([f])}


def test_tactic_classes_and_bins() -> None:
    assert [tactic_class(s) for s in ("move=> x y.", "move/eqP: H.", "by rewrite addnC.", "rewrite addnC.",
                                       "apply: leq_trans.", "case: n => [|n].", "have H : x = y.",
                                       "2: by [].", "symmetry.")] == \
        ["intro", "move", "by", "rewrite", "apply", "case", "have", "by", "other"]
    assert [position_bin(k) for k in (1, 4, 5, 20, 21)] == [0, 0, 1, 1, 2]


def _coqtop_goal(prefix: list[str]) -> tuple[list[str], str]:
    """Ask coqtop directly (a separate process, plain `Show.`) for the goal after ``prefix``."""
    script = "Set Printing All.\nSet Printing Width 100000.\n" + "\n".join(prefix) + "\nShow.\n"
    out = subprocess.run([coqtop_path(), "-quiet"], input=script, capture_output=True, text=True,
                         timeout=60).stdout
    block = out.split("============================")
    hyps = [ln.strip() for ln in block[-2].splitlines() if " : " in ln]
    concl = block[-1].strip().splitlines()[0]
    return hyps, concl


def test_extraction_matches_coqtop(tmp_path: Path) -> None:
    v = tmp_path / "small.v"
    v.write_text(SMALL)
    res = extract_file(v, "small.v")
    assert res.failures == []
    assert [lm.name for lm in res.lemmas] == ["foo", "baz"]
    foo = res.lemmas[0]
    assert [s.tactic for s in foo.steps] == ["split.", "rewrite <- plus_n_O.", "exact H.", "symmetry.", "exact H."]
    assert [s.cls for s in foo.steps] == ["split", "rewrite", "exact", "other", "exact"]
    rec = res.as_json("8.16.1")
    assert [s["left"] for s in rec["lemmas"][0]["steps"]] == [5, 4, 3, 2, 1]
    # the state before each step equals what coqtop itself prints there
    prefixes = {1: ["Require Import Arith.", SMALL.splitlines()[2], "split.", "-"],
                3: ["Require Import Arith.", SMALL.splitlines()[2], "split.", "-", "rewrite <- plus_n_O.",
                    "exact H.", "-"]}
    for k, prefix in prefixes.items():
        hyps, concl = _coqtop_goal(prefix)
        goal = foo.steps[k].goals[0]
        assert _strip(tokenize(res.table.to_text(goal.concl))) == _strip(tokenize(concl))
        ours = [f"{n} : {' '.join(_strip(tokenize(res.table.to_text(t))))}" for n, t, _ in goal.hyps]
        theirs = []
        for h in hyps:
            names, ty = h.split(" : ", 1)
            theirs += [f"{nm.strip()} : {' '.join(_strip(tokenize(ty)))}" for nm in names.split(",")]
        assert ours == theirs
    # the intros step starts from the statement, the exact step sees the four hypotheses
    baz = res.lemmas[1]
    assert [n for n, _, _ in baz.steps[1].goals[0].hyps] == ["A", "B", "a", "b"]


def test_broken_file_logs_sentence_and_goes_on(tmp_path: Path) -> None:
    src = tmp_path / "corpus"
    src.mkdir()
    (src / "a_bad.v").write_text("Lemma bad : 1 = 2.\nProof.\n  reflexivity.\nQed.\nLemma good : 2 = 2.\nProof.\n"
                                 "  reflexivity.\nQed.\nDefinition oops := undefined_thing.\n")
    (src / "b_ok.v").write_text("Lemma ok : True.\nProof. exact I. Qed.\n")
    out = tmp_path / "ds"
    m = extract_corpus([(p, p.name) for p in sorted(src.glob("*.v"))], out, [], workers=1)
    assert m["lemmas"] == 2 and m["lemmas_failed"] == 1 and m["steps"] == 2
    fails = [line for line in (out / "failures.jsonl").read_text().splitlines()]
    assert len(fails) == 2
    assert '"line": 3' in fails[0] and "Unable to unify" in fails[0] and '"file": "a_bad.v"' in fails[0]
    assert '"line": 9' in fails[1] and "undefined_thing" in fails[1]
    rec = read_file_record(out / "files" / "a_bad.json.gz")
    assert [lm["name"] for lm in rec["lemmas"]] == ["good"]
    # resuming does nothing more
    m2 = extract_corpus([(p, p.name) for p in sorted(src.glob("*.v"))], out, [], workers=1)
    assert m2["files_this_session"] == 0 if "files_this_session" in m2 else True
    assert m2["lemmas"] == 2


def test_never_ending_tactic_times_out() -> None:
    with Coqtop(timeout=2.0) as coq:
        coq.send("Ltac spin := do 2000000000 idtac.")  # loops without overflowing the stack
        coq.send("Lemma loop : True.")
        with pytest.raises(CoqTimeout):
            coq.send("spin.")
        assert not coq.alive()
        coq.restart()
        assert coq.send("Check I.").error is None


def test_timeout_in_extraction_fails_only_that_lemma(tmp_path: Path) -> None:
    v = tmp_path / "loop.v"
    # a loop that cannot overflow Coq's stack (a recursive Ltac may fail fast with "stack overflow" instead)
    v.write_text("Ltac spin := do 2000000000 idtac.\nLemma l1 : True.\nProof.\n  spin.\nQed.\n"
                 "Lemma l2 : True.\nProof.\n  exact I.\nQed.\n")
    res = extract_file(v, "loop.v", timeout=2.0)
    assert [f["kind"] for f in res.failures] == ["timeout"] and res.failures[0]["line"] == 4
    assert [lm.name for lm in res.lemmas if lm.qed] == ["l2"]


def test_missing_coq_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ILYA_COQTOP", "/nonexistent/coqtop")
    with pytest.raises(IlyaError) as e:
        coqtop_path()
    assert str(e.value) == INSTALL_HINT and "apt-get install coq libcoq-mathcomp" in str(e.value)


def test_split_is_deterministic_and_about_80_10_10() -> None:
    splits = [lemma_split("f.v", f"lemma{i}", i) for i in range(3000)]
    assert splits == [lemma_split("f.v", f"lemma{i}", i) for i in range(3000)]
    share = {s: splits.count(s) / len(splits) for s in ("train", "valid", "test")}
    assert abs(share["train"] - 0.8) < 0.03 and abs(share["valid"] - 0.1) < 0.02
    assert re.fullmatch(r"train|valid|test", lemma_split("x", "y", 1))
