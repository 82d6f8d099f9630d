"""Property-based fuzzing of the parser and verifier (hypothesis).

Edited files may only parse or raise `MetamathError` (never crash or hang), the compiled core and the
Python reference must agree on every verdict, and neither may accept a proof metamath-exe rejects.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as stg

from ilya.metamath import MetamathError, load
from ilya.metamath.check import fast_available, verify_file
from ilya.metamath.database import DEFAULT_DIR

from .mmexe import MMEXE, mmexe_verdict
from .test_malformed import GOOD

DEMO0 = (DEFAULT_DIR / "demo0.mm").read_text() if (DEFAULT_DIR / "demo0.mm").exists() else GOOD
BASES = [GOOD, DEMO0]
# Where the Metamath book is stricter than metamath-exe 0.195 and ilya follows the book:
# a NUL byte (metamath-exe stops reading at it).
KNOWN_STRICTER = ["\x00"]
VOCAB = ["$c", "$v", "$f", "$e", "$d", "$a", "$p", "$.", "$=", "${", "$}", "$(", "$)", "$[", "$]", "(",
         ")", "->", "ph", "ps", "wph", "wi", "ax-mp", "ax-1", "a1i", "t", "tt", "mp", "?", "A", "UA", "Z",
         "x$y", "wff", "|-", "new", "@", "\t", "\n"]


@stg.composite
def edited_file(draw):
    text = draw(stg.sampled_from(BASES))
    toks = text.split(" ")
    for _ in range(draw(stg.integers(1, 4))):
        op = draw(stg.sampled_from(["delete", "insert", "replace", "truncate", "char"]))
        i = draw(stg.integers(0, max(0, len(toks) - 1)))
        if op == "delete" and toks:
            del toks[i]
        elif op == "insert":
            toks.insert(i, draw(stg.sampled_from(VOCAB)))
        elif op == "replace" and toks:
            toks[i] = draw(stg.sampled_from(VOCAB))
        elif op == "truncate":
            toks = toks[:i]
        elif op == "char" and toks:
            c = draw(stg.sampled_from(["\x00", "\x7f", "é", "$", "(", "Z", "?", " "]))
            t = toks[i]
            k = draw(stg.integers(0, len(t)))
            toks[i] = t[:k] + c + t[k:]
    return " ".join(toks)


def outcome(path, backend):
    try:
        rep = verify_file(path, backend=backend)
    except MetamathError as e:
        assert e.file is not None
        return ("parse-error",)
    return ("ok" if rep.ok else "bad", tuple(lab for lab, _ in rep.failures), tuple(rep.warnings))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=edited_file())
def test_parser_never_crashes_and_backends_agree(tmp_path, text):
    p = tmp_path / "f.mm"
    p.write_bytes(text.encode("utf-8"))
    py = outcome(p, "python")
    if fast_available():
        assert outcome(p, "fast") == py
    try:
        load(p)
    except MetamathError:
        assert py == ("parse-error",)


@pytest.mark.skipif(MMEXE is None, reason="metamath-exe not installed")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=edited_file())
def test_never_accepts_what_metamath_exe_rejects(tmp_path, text):
    p = tmp_path / "f.mm"
    p.write_bytes(text.encode("utf-8"))
    mm = mmexe_verdict(p)
    ours = outcome(p, "python")
    if not mm.ok:
        assert ours[0] != "ok", mm.output[-600:]
    elif not any(q in text for q in KNOWN_STRICTER):
        assert ours[0] == "ok", (ours, text)
