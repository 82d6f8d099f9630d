"""Malformed files: each is rejected with file:line:col, and metamath-exe rejects it too."""

from __future__ import annotations

import re

import pytest

from ilya.metamath import MetamathError, load
from ilya.metamath.check import verify_file

from .mmexe import MMEXE, mmexe_verdict

HEAD = """$( a small database $)
$c ( ) -> wff |- $.
$v ph ps ch $.
wph $f wff ph $.
wps $f wff ps $.
wch $f wff ch $.
wi $a wff ( ph -> ps ) $.
${
  min $e |- ph $.
  maj $e |- ( ph -> ps ) $.
  ax-mp $a |- ps $.
$}
ax-1 $a |- ( ph -> ( ps -> ph ) ) $.
"""
GOOD = HEAD + """${
  a1i.1 $e |- ph $.
  a1i $p |- ( ps -> ph ) $= wph wps wph wi a1i.1 wph wps ax-1 ax-mp $.
$}
"""

# name -> (file text, the line the error must name)
MALFORMED = {
    "unclosed_scope": (GOOD + "${\n  x1 $e |- ph $.\n", 20),
    "extra_close": (GOOD + "$}\n", 18),
    "nested_comment": (GOOD + "$( a $( nested $) comment $)\n", 18),
    "unclosed_comment": (GOOD + "$( never closed\n", 18),
    "undeclared_symbol": (GOOD + "bad $a |- ( ph -> qq ) $.\n", 18),
    "undeclared_typecode": (GOOD + "bad $a foo ph $.\n", 18),
    "inactive_variable": (HEAD + "${ $v x $. $}\nbad $a wff x $.\n", 15),
    "bad_include": (GOOD + "$[ no-such-file.mm $]\n", 18),
    "truncated": (GOOD[:-40], 16),
    "duplicate_label": (GOOD + "ax-1 $a |- ph $.\n", 18),
    "hyp_label_reused": (GOOD + "${\n  a1i.1 $e |- ps $.\n$}\n", 19),
    "label_is_symbol": (GOOD + "ph $a |- ph $.\n", 18),
    "missing_label": (GOOD + "$a |- ph $.\n", 18),
    "const_in_scope": (GOOD + "${ $c foo $. $}\n", 18),
    "const_twice": (GOOD + "$c wff $.\n", 18),
    "dollar_in_symbol": (GOOD + "$c a$b $.\n", 18),
    "unknown_keyword": (GOOD + "$x ph $.\n", 18),
    "float_of_constant": (GOOD + "wbad $f wff wff $.\n", 18),
    "second_float": (GOOD + "wph2 $f wff ph $.\nth $a wff ph $.\n", 18),
    "dv_one_variable": (GOOD + "$d ph $.\n", 18),
    "symbol_is_label": (GOOD + "$c wps $.\n", 18),
    "no_float": (GOOD + "$v ta $.\nbad $a |- ta $.\n", 19),
    "illegal_char": (GOOD + "$( caf\u00e9 $)\n", 18),
    "bad_label_char": (GOOD + "a@b $a |- ph $.\n", 18),
    "missing_proof": (GOOD + "thm $p |- ph $.\n", 18),
    "dv_constant": (GOOD + "$d ph wff $.\n", 18),
    "unclosed_statement": (GOOD + "x $a |- ph\n", 18),
}


def _write(tmp_path, name, text):
    p = tmp_path / f"{name}.mm"
    p.write_text(text, encoding="utf-8")
    return p


def _backends():
    """The verifiers to hold to the same verdict: the Python reference, and the compiled core if built."""
    from ilya.metamath.check import fast_available

    return ["python", "fast"] if fast_available() else ["python"]


def test_good_file_verifies(tmp_path):
    p = _write(tmp_path, "good", GOOD)
    rep = verify_file(p, backend="python")
    assert rep.ok and rep.checked == 1


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_is_rejected_with_place(tmp_path, name):
    text, line = MALFORMED[name]
    p = _write(tmp_path, name, text)
    with pytest.raises(MetamathError) as exc:
        load(p)
    e = exc.value
    assert e.file is not None and e.file.endswith(f"{name}.mm")
    assert e.line == line, str(e)
    assert e.col is not None and e.col >= 1
    assert re.match(rf".*{name}\.mm:{line}:\d+: ", str(e))


@pytest.mark.skipif(MMEXE is None, reason="metamath-exe not installed")
@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_metamath_exe_rejects_it_too(tmp_path, name):
    text, _ = MALFORMED[name]
    p = _write(tmp_path, name, text)
    assert not mmexe_verdict(p).ok


@pytest.mark.skipif(MMEXE is None, reason="metamath-exe not installed")
def test_good_file_accepted_by_metamath_exe(tmp_path):
    assert mmexe_verdict(_write(tmp_path, "good", GOOD)).ok


PROOF = "wph wps wph wi a1i.1 wph wps ax-1 ax-mp"
# edits inside a proof: (proof text, whether the file still parses)
PROOF_EDITS = {
    "comment_in_proof": ("wph wps $( a comment $) wph wi a1i.1 wph wps ax-1 ax-mp", True),
    "comment_only_proof": ("$( nothing $)", False),
    "second_equals": (f"{PROOF} $= wph", False),
    "glued_end": (f"{PROOF}$.", False),
    "glued_comment": (f"wph $(x $) {PROOF}", False),
    "nested_comment_in_proof": (f"wph $( a $( b $) {PROOF}", False),
    "dollar_token_in_proof": (f"{PROOF} $x", False),
    "dollar_inside_comment": (f"$( costs $5 and $a $) {PROOF}", True),
    "close_glued_in_comment": (f"$( a b$) $) {PROOF}", False),
}


@pytest.mark.parametrize("name", sorted(PROOF_EDITS))
def test_proof_text_edits_both_backends(tmp_path, name):
    proof, parses = PROOF_EDITS[name]
    p = _write(tmp_path, name, GOOD.replace(PROOF, proof))
    for backend in _backends():
        if parses:
            assert verify_file(p, backend=backend).ok
        else:
            with pytest.raises(MetamathError) as exc:
                verify_file(p, backend=backend)
            assert exc.value.line == 16, str(exc.value)
    if MMEXE is not None:
        assert mmexe_verdict(p).ok == parses


# '?' steps: an incomplete proof is a warning only while it leaves exactly one entry on the stack
# (found by tests/metamath/test_fuzz.py: a stray '?' before a whole proof was taken for "incomplete")
INCOMPLETE = {
    "question_for_a_step": ("wph wps wph wi ? wph wps ax-1 ax-mp", True),
    "question_for_a_subproof": ("wph wps wph wi a1i.1 ? ax-mp", True),
    "stray_question_before_proof": (f"? {PROOF}", False),
    "stray_question_after_proof": (f"{PROOF} ?", False),
}


@pytest.mark.parametrize("name", sorted(INCOMPLETE))
def test_incomplete_proofs_both_backends(tmp_path, name):
    proof, incomplete = INCOMPLETE[name]
    p = _write(tmp_path, name, GOOD.replace(PROOF, proof))
    for backend in _backends():
        rep = verify_file(p, backend=backend)
        assert rep.ok == incomplete, (backend, rep.failures)
        if incomplete:
            assert any("incomplete" in w for w in rep.warnings), rep.warnings
        else:
            assert [lab for lab, _ in rep.failures] == ["a1i"]
    if MMEXE is not None and not incomplete:
        assert not mmexe_verdict(p).ok
