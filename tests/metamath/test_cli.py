"""``ilya metamath verify|show|stats``: exit codes, output, JSON, plots."""

from __future__ import annotations

import json

import pytest

from ilya.cli import main
from ilya.core.plotting import png_text
from ilya.metamath.check import fast_available
from ilya.metamath.database import DEFAULT_DIR

from .mmexe import MMEXE, mmexe_verdict
from .test_malformed import GOOD

HOL = str(DEFAULT_DIR / "hol.mm")


@pytest.mark.parametrize("backend", ["python", "fast"] if fast_available() else ["python"])
def test_verify_ok_exit_0(capsys, backend):
    assert main(["metamath", "verify", HOL, "--backend", backend]) == 0
    out = capsys.readouterr().out
    assert out.startswith("verified 138 proofs in ") and out.rstrip().endswith(" s")


def test_verify_bad_proof_exit_1_lists_each(tmp_path, capsys):
    text = GOOD.replace("wph wps ax-1 ax-mp $.", "wph wps ax-1 ax-mp ax-mp $.")
    text += "${\n  b.1 $e |- ph $.\n  b $p |- ( ps -> ph ) $= wph wps wph wi b.1 wps wph ax-1 ax-mp $.\n$}\n"
    p = tmp_path / "bad.mm"
    p.write_text(text)
    assert main(["metamath", "verify", str(p)]) == 1
    out = capsys.readouterr().out.splitlines()
    errors = [ln for ln in out if ln.startswith("error: ")]
    assert len(errors) == 2
    assert "a1i: step 10: ax-mp needs 4 hypotheses but the stack holds 1" in errors[0]
    assert f"{p}:16:3: " in errors[0]
    assert "b: step 9: ax-mp hypothesis maj does not match" in errors[1]
    assert out[-1].startswith("verified 0 proofs in ") and out[-1].endswith("; 2 wrong")


def test_verify_unparsable_exit_2(tmp_path, capsys):
    p = tmp_path / "broken.mm"
    p.write_text(GOOD + "${\n")
    assert main(["metamath", "verify", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ilya: error: {p}:19:1: ") and "scope" in err
    assert main(["metamath", "verify", str(tmp_path / "missing.mm")]) == 2


def test_verify_labels_jobs_json(capsys):
    assert main(["metamath", "verify", HOL, "--label", "syl", "jca", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["checked"] == 2 and rep["failures"] == []
    assert main(["metamath", "verify", HOL, "--jobs", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verified"] == 138
    assert main(["metamath", "verify", HOL, "--label", "nosuch"]) == 2


def test_incomplete_proof_is_a_warning(tmp_path, capsys):
    p = tmp_path / "inc.mm"
    p.write_text(GOOD.replace("wph wps ax-1 ax-mp $.", "? ax-mp $."))
    assert main(["metamath", "verify", str(p)]) == 0
    cap = capsys.readouterr()
    assert "a1i: proof is incomplete" in cap.err
    if MMEXE is not None:  # metamath-exe warns too ("were not proved") and reports no error
        assert mmexe_verdict(p).ok


def test_show_and_stats(tmp_path, capsys):
    assert main(["metamath", "show", "th1", "--db", str(DEFAULT_DIR / "demo0.mm"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["expr"] == "|- t = t" and info["proof"][0].startswith("GOAL |- t = t PROOFSTEP mp")
    assert main(["metamath", "stats", "--db", HOL, "--out", str(tmp_path), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["$p"] == 138 and stats["proof steps (max)"] >= stats["proof steps (median)"] > 0
    assert len(stats["plots"]) == 3
    for p in stats["plots"]:
        assert int(png_text(p)["ilya:curves"]) >= 1


def test_auto_falls_back_to_python_without_the_compiled_core(monkeypatch):
    import ilya.metamath.check as check

    monkeypatch.setattr(check, "fast_available", lambda: False)
    rep = check.verify_file(HOL)
    assert rep.backend == "python" and rep.ok and rep.checked == 138
    with pytest.raises(check.MetamathError, match="not built"):
        check.verify_file(HOL, backend="fast")
