"""The demo step of ``ilya demo`` (slow: verifies set.mm, loads it, draws plots)."""

from __future__ import annotations

import json
import statistics

import pytest

from ilya.core.plotting import png_text


@pytest.mark.slow
def test_demo_writes_a_finished_run_with_plots(tmp_path, capsys):
    from ilya.metamath.demo import demo

    demo(tmp_path)
    out = capsys.readouterr().out
    assert "set.mm: verified 37759 proofs" in out and "PROOFSTEP mpd" in out
    run = tmp_path / "metamath" / "demo"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["set.mm/verified"] == 37759 and summary["rewritten/ok"] is True
    assert json.loads((run / "status.json").read_text())["status"] == "finished"
    plots = sorted(p.name for p in (run / "plots").glob("*.png"))
    assert {"proof_lengths.png", "statement_lengths.png", "label_uses.png"} <= set(plots)
    # the statistics behind the plots agree with each other and with the database (hand-checked counts)
    stats = json.loads((run / "stats.json").read_text())
    assert summary["$p"] == 37759 == len(stats["steps"])  # one proof-length entry per $p
    assert sum(stats["steps"]) == summary["proof steps (total)"]
    assert statistics.median(stats["steps"]) == summary["proof steps (median)"]
    assert max(stats["steps"]) == summary["proof steps (max)"]
    assert len(stats["lengths"]) == summary["$a"] + summary["$p"]
    assert stats["uses"] == sorted(stats["uses"], reverse=True) and stats["uses"][0] > 10_000  # Zipf rank plot
    assert summary["most used"].startswith("wcel (")  # docs/metamath.md: wcel, co, cfv, wceq, wa
    assert int(png_text(run / "plots" / "proof_lengths.png")["ilya:curves"]) == 1
    # `ilya plot` redraws them from the saved statistics through the figure registry
    (run / "plots" / "proof_lengths.png").unlink()
    from ilya.core.figures import run_figures
    from ilya.core.runs import Run

    paths = run_figures("metamath")["stats"](Run.load("metamath/demo", tmp_path))
    assert (run / "plots" / "proof_lengths.png") in paths and (run / "plots" / "proof_lengths.png").exists()
