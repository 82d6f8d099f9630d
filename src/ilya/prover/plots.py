"""The prover's figures, registered with `ilya.core.figures`: % proved vs expansion budget, proof lengths
against set.mm's, % proved per value-loop iteration, and the headline rows (% of set.mm's test split
proved, beside GPT-f's 29.22% and 56.22%)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ilya.core.figures import HeadlineRow, headline, paper_figure, run_figure
from ilya.core.plotting import new_figure, save_figure
from ilya.core.runs import Run
from ilya.prover.config import EvalConfig

PAPER_PROVED_PCT = {"160M": 29.22, "best": 56.22}
"""GPT-f's % of the set.mm test split proved: its 160M model trained from scratch, and its best model
(700M, WebMath pre-training, value-function iterations); e=32, d=128"""


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def proved_vs_budget(rows: list[dict[str, Any]], d: int) -> tuple[list[int], list[float]]:
    """% of theorems proved within k expansions, k = 1..d (a stop-at-first search proves at its k)."""
    n = max(len(rows), 1)
    ks = list(range(1, d + 1))
    at = sorted(r["expansions"] for r in rows if r["proved"])
    out: list[float] = []
    j = 0
    for k in ks:
        while j < len(at) and at[j] <= k:
            j += 1
        out.append(100.0 * j / n)
    return ks, out


@run_figure("prover", "eval")
def eval_figures(run: Run) -> list[Path]:
    """An eval run's % proved vs budget and its found proofs' lengths against set.mm's (results.jsonl)."""
    rows = _jsonl(run.path / "results.jsonl")
    if not rows:
        return []
    paths: list[Path] = []
    cfg = run.config_as(EvalConfig)
    ks, pct = proved_vs_budget(rows, cfg.d)
    fig, ax = new_figure()
    ax.plot(ks, pct, label=f"{cfg.policy}, {'clean split' if cfg.clean else 'all attempted (paper split)'}")
    curves = 1
    clean = [r for r in rows if r.get("clean") is True]
    if clean and not cfg.clean and len(clean) < len(rows):  # the clean ones among them (`ilya.prover.clean`)
        ax.plot(*proved_vs_budget(clean, cfg.d), linestyle="--", label=f"{cfg.policy}, clean split")
        curves = 2
    ax.set_xlabel("expansion budget d")
    ax.set_ylabel("% proved")
    ax.set_title(f"prover: % proved vs expansions ({cfg.split}, e={cfg.e})")
    ax.legend()
    paths.append(save_figure(fig, run.plots_dir / "proved_vs_budget.png", curves=curves))
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


@run_figure("prover", "iterations")
def iterate_figures(run: Run) -> list[Path]:
    """A value-loop run's % proved per iteration (iterations.jsonl)."""
    history = _jsonl(run.path / "iterations.jsonl")
    if not history:
        return []
    fig, ax = new_figure()
    its = [h["iteration"] for h in history]
    names = {"train_proved_pct": "train (search for new proofs)",
             "test_proved_pct_logprob": "test, logprob priority", "test_proved_pct_value": "test, value priority"}
    curves = 0
    for key, label in names.items():
        if any(key in h for h in history):
            ax.plot(its, [h.get(key, float("nan")) for h in history], marker="o", label=label)
            curves += 1
    ax.set_xlabel("iteration")
    ax.set_ylabel("% proved")
    ax.set_title("prover iterate: % proved per iteration")
    ax.legend()
    return [save_figure(fig, run.plots_dir / "iterations.png", curves=curves)]


def _eval_runs(runs: list[Run]) -> list[Run]:
    return [r for r in runs if r.system == "prover" and (r.path / "results.jsonl").is_file()]


@paper_figure("prover", "budget", title="% of theorems proved vs expansion budget (GPT-f Fig. / Table 1 protocol)")
def compare_budget(runs: list[Run], out: Path) -> list[Path]:
    """Every eval run's % proved vs budget on shared axes, with the paper's test figures as lines."""
    evals = _eval_runs(runs)
    if not evals:
        return []
    fig, ax = new_figure()
    for run in evals:
        cfg = run.config_as(EvalConfig)
        ks, pct = proved_vs_budget(_jsonl(run.path / "results.jsonl"), cfg.d)
        ax.plot(ks, pct, label=f"{run.name} ({cfg.policy}, {cfg.split})")
    for name, pct in PAPER_PROVED_PCT.items():
        ax.axhline(pct, linestyle=":", color="grey")
        ax.text(1, pct, f"GPT-f {name}: {pct}% (d=128)", va="bottom", fontsize=8)
    ax.set_xlabel("expansion budget d")
    ax.set_ylabel("% proved")
    ax.set_title("prover: % proved vs expansion budget")
    ax.legend(fontsize=8)
    return [save_figure(fig, out / "prover_budget.png", curves=len(evals))]


@headline("prover")
def headline_rows(runs: list[Run]) -> list[HeadlineRow]:
    """% proved on a set.mm test split by each finished eval run, beside GPT-f's 29.22% / 56.22%."""
    rows: list[HeadlineRow] = []
    for run in _eval_runs(runs):
        s = run.read_summary()
        c = run.config_as(EvalConfig)
        if "proved_pct" not in s or c.split != "test" or c.labels:
            continue
        if Path(str(s.get("database", "set.mm"))).name != "set.mm":  # a slice or another database
            continue
        rows.append(HeadlineRow(
            claim=f"% of set.mm test theorems proved ({c.policy}{', clean split only' if c.clean else ''})",
            paper=f"{PAPER_PROVED_PCT['160M']}% (160M) / {PAPER_PROVED_PCT['best']}% (best), e=32 d=128",
            ours=f"{s['proved_pct']}% ({s['proved']}/{s['attempted']})"
                 + (f"; clean split: {s['clean_proved_pct']}% ({s['clean_proved']}/{s['clean_attempted']})"
                    if "clean_attempted" in s else ""),
            protocol=f"e={c.e} d={c.d} {c.time_limit:g} s/theorem, {c.decode} decoding, "
                     + ("whole split" if not c.limit else f"first {c.limit} (hash order)"),
            run=f"prover/{run.name}",
            command=(f"ilya prover eval --policy {c.policy}" + (f" --model {c.model}" if c.model else "")
                     + f" --e {c.e} --d {c.d} --time-limit {c.time_limit:g} --limit {c.limit}"
                     + (" --clean" if c.clean else ""))))
    return rows
