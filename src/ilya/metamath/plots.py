# pyright: strict
"""The metamath figures, registered with `ilya.core.figures`: a database's statistics, the headline."""

from __future__ import annotations

import json
from pathlib import Path

from ilya.core.figures import HeadlineRow, headline, run_figure
from ilya.core.runs import Run
from ilya.metamath.stats import plot_stats


@run_figure("metamath", "stats")
def stats_figures(run: Run) -> list[Path]:
    """Proof lengths, statement lengths, label uses, from the ``stats.json`` a run saved (the demo's)."""
    path = run.path / "stats.json"
    if not path.exists():
        return []
    return plot_stats(json.loads(path.read_text()), run.plots_dir, title="set.mm")


@headline("metamath")
def rows(runs: list[Run]) -> list[HeadlineRow]:
    """Proofs of set.mm the kernel verifies (the paper's substrate: every proof of set.mm checks)."""
    out: list[HeadlineRow] = []
    for run in runs:
        if run.system != "metamath":
            continue
        s = run.read_summary()
        if "set.mm/verified" in s:
            out.append(HeadlineRow(
                claim="set.mm proofs verified by our kernel", paper="all (metamath-exe)",
                ours=f"{s['set.mm/verified']:,} in {s.get('set.mm/seconds', float('nan')):.1f} s",
                protocol="every $p of Debian's set.mm, compiled core, 1 job", run=f"metamath/{run.name}",
                command="ilya demo --only metamath"))
    return out
