"""Paper-style figures: % proved vs expansion budget, proof lengths against set.mm's, iterations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ilya.core.plotting import new_figure, save_figure


def proved_vs_budget(rows: list[dict[str, Any]], d: int) -> tuple[list[int], list[float]]:
    """% of theorems proved within k expansions, k = 1..d (a stop-at-first search proves at its k)."""
    n = max(len(rows), 1)
    ks = list(range(1, d + 1))
    at = sorted(r["expansions"] for r in rows if r["proved"])
    out, j = [], 0
    for k in ks:
        while j < len(at) and at[j] <= k:
            j += 1
        out.append(100.0 * j / n)
    return ks, out


def eval_figures(run: Any, rows: list[dict[str, Any]], d: int) -> list[Path]:
    paths = []
    ks, pct = proved_vs_budget(rows, d)
    fig, ax = new_figure()
    ax.plot(ks, pct, label=run.config.get("policy", "model"))
    ax.set_xlabel("expansion budget d")
    ax.set_ylabel("% proved")
    ax.set_title(f"prover: % proved vs expansions ({run.config.get('split')}, e={run.config.get('e')})")
    paths.append(save_figure(fig, run.plots_dir / "proved_vs_budget.png"))
    proved = [r for r in rows if r["proved"] and r.get("setmm_steps")]
    if proved:
        fig, ax = new_figure()
        ours = [r["steps"] for r in proved]
        theirs = [r["setmm_steps"] for r in proved]
        top = max(ours + theirs)
        bins = list(range(0, top + 2, max(1, (top + 1) // 30)))
        ax.hist(theirs, bins=bins, alpha=0.6, label="set.mm's proof")
        ax.hist(ours, bins=bins, alpha=0.6, label="found proof")
        ax.set_xlabel("proof steps (|- steps, expanded)")
        ax.set_ylabel("theorems")
        ax.set_title("prover: length of found proofs vs set.mm's")
        ax.legend()
        paths.append(save_figure(fig, run.plots_dir / "proof_lengths.png", curves=2))
    return paths


def iterate_figures(run: Any, history: list[dict[str, Any]]) -> list[Path]:
    if not history:
        return []
    fig, ax = new_figure()
    its = [h["iteration"] for h in history]
    names = {"train_proved_pct": "train (search for new proofs)",
             "test_proved_pct_logprob": "test, logprob priority", "test_proved_pct_value": "test, value priority"}
    for key, label in names.items():
        if any(key in h for h in history):
            ax.plot(its, [h.get(key, float("nan")) for h in history], marker="o", label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("% proved")
    ax.set_title("prover iterate: % proved per iteration")
    ax.legend()
    return [save_figure(fig, run.plots_dir / "iterations.png")]


def replot_run(run: Any) -> list[Path]:
    res = run.path / "results.jsonl"
    out: list[Path] = []
    if res.is_file():
        rows = [json.loads(x) for x in res.read_text().splitlines() if x.strip()]
        out += eval_figures(run, rows, int(run.config.get("d", 32)))
    hist = run.path / "iterations.jsonl"
    if hist.is_file():
        out += iterate_figures(run, [json.loads(x) for x in hist.read_text().splitlines() if x.strip()])
    return out


def compare_budget(runs: list[Any], path: Path, title: str = "% proved vs expansion budget") -> Path:
    """Several eval runs' % proved vs budget on shared axes (labels: run names)."""
    fig, ax = new_figure()
    for run in runs:
        rows = [json.loads(x) for x in (run.path / "results.jsonl").read_text().splitlines() if x.strip()]
        ks, pct = proved_vs_budget(rows, int(run.config.get("d", 32)))
        ax.plot(ks, pct, label=run.name)
    ax.set_xlabel("expansion budget d")
    ax.set_ylabel("% proved")
    ax.set_title(title)
    ax.legend()
    return save_figure(fig, path)
