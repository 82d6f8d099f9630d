"""The demo step of ``ilya demo`` (slow: verifies set.mm, loads it, draws plots)."""

from __future__ import annotations

import json

import pytest

from ilya.core.plotting import png_text


@pytest.mark.slow
def test_demo_writes_a_finished_run_with_plots(tmp_path, capsys):
    from ilya.metamath.cli import demo

    demo(tmp_path)
    out = capsys.readouterr().out
    assert "set.mm: verified 37759 proofs" in out and "PROOFSTEP mpd" in out
    run = tmp_path / "metamath" / "demo"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["set.mm/verified"] == 37759 and summary["rewritten/ok"] is True
    assert json.loads((run / "status.json").read_text())["status"] == "finished"
    plots = sorted(p.name for p in (run / "plots").glob("*.png"))
    assert {"proof_lengths.png", "statement_lengths.png", "label_uses.png"} <= set(plots)
    assert int(png_text(run / "plots" / "proof_lengths.png")["ilya:curves"]) == 1
    # `ilya plot` redraws them from the saved statistics
    (run / "plots" / "proof_lengths.png").unlink()
    from ilya.core.runs import Run
    from ilya.metamath.cli import replot

    paths = replot(Run.load("metamath/demo", tmp_path))
    assert (run / "plots" / "proof_lengths.png") in paths and (run / "plots" / "proof_lengths.png").exists()
