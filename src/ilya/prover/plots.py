"""The prover's figures, registered with `ilya.core.figures`: % proved vs expansion budget, proof lengths
against set.mm's, % proved per value-loop iteration, and the headline rows (% of set.mm's test split
proved, beside GPT-f's 29.22% and 56.22%), and % proved on a fixed clean subset against training compute."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ilya.core.figures import HeadlineRow, headline, paper_figure, run_figure
from ilya.core.plotting import new_figure, save_figure
from ilya.core.runs import Run
from ilya.core.stats import wilson_interval
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


# ---------------------------------------------------------------------------- % proved vs training compute
TARGET_PROVED_PCT = 20.0
"""issue 17 item 3: % of the clean test split to prove at e=32, d=128 ..."""
TARGET_TRAIN_HOURS = 6.0
"""... from a model trained in at most this many CPU-hours on the 2-core machine"""


@dataclass(frozen=True)
class ComputePoint:
    """One trained model on the compute curve: its training, and its % proved on a fixed clean subset."""

    model: str
    """the train run (`ilya prover train --run`)"""
    steps: int
    train_seconds: float
    """the run's recorded training time (`train_seconds`: wall seconds of a 1-thread run, data loading
    included; on a loaded machine this is more than the process's CPU time)"""
    valid_loss: float
    proved: int
    attempted: int
    eval_run: str

    @property
    def train_hours(self) -> float:
        return self.train_seconds / 3600.0

    @property
    def interval_pct(self) -> tuple[float, float]:
        """Wilson 95% interval of the % proved"""
        lo, hi = wilson_interval(self.proved, self.attempted)
        return 100.0 * lo, 100.0 * hi


@dataclass(frozen=True)
class ComputeCurve:
    """Every model evaluated on the same clean test theorems, and the frequency baseline on exactly them."""

    points: list[ComputePoint]
    labels: list[str]
    e: int
    d: int
    baseline: tuple[int, int] | None
    """(proved, attempted) of the frequency baseline on ``labels``, from an eval run that covers them"""
    baseline_run: str = ""


def compute_curve(runs: list[Run]) -> ComputeCurve | None:
    """The models' eval runs with ``--clean --limit N`` on the test split (N the most-used subset size; only
    complete runs), each beside its train run's steps, valid loss and training time; the baseline's %
    proved on the same theorems is taken from any frequency eval run whose results hold them all."""
    by_name = {r.name: r for r in runs if r.system == "prover"}
    groups: dict[tuple[int, int, int], list[tuple[Run, list[dict[str, Any]]]]] = {}
    for run in _eval_runs(runs):
        c = run.config_as(EvalConfig)
        if c.policy != "model" or not c.clean or c.split != "test" or c.labels or not c.limit or not c.model:
            continue
        rows = _jsonl(run.path / "results.jsonl")
        if len({r["label"] for r in rows}) != c.limit:
            continue  # not finished
        groups.setdefault((c.limit, c.e, c.d), []).append((run, rows))
    if not groups:
        return None
    (limit, e, d), evals = max(groups.items(), key=lambda kv: (len({r.config["model"] for r, _ in kv[1]}), kv[0][0]))
    labels = sorted({r["label"] for r in evals[0][1]})
    points: list[ComputePoint] = []
    for run, rows in evals:
        if sorted({r["label"] for r in rows}) != labels:
            continue
        model = str(run.config["model"])
        train = by_name.get(Path(model).name)
        s = train.read_summary() if train is not None else {}
        if "train_seconds" not in s:
            continue
        points.append(ComputePoint(model=Path(model).name, steps=int(s["steps"]), train_seconds=float(s["train_seconds"]),
                                   valid_loss=float(s["valid/loss"]), proved=sum(bool(r["proved"]) for r in rows),
                                   attempted=len(rows), eval_run=run.name))
    points.sort(key=lambda p: (p.train_seconds, p.model))
    baseline: tuple[int, int] | None = None
    baseline_run = ""
    wanted = set(labels)
    for run in _eval_runs(runs):
        c = run.config_as(EvalConfig)
        if c.policy != "frequency" or c.e != e or c.d != d:
            continue
        rows = {r["label"]: r for r in _jsonl(run.path / "results.jsonl")}
        if wanted <= set(rows):
            baseline = (sum(bool(rows[lab]["proved"]) for lab in labels), len(labels))
            baseline_run = run.name
            break
    return ComputeCurve(points=points, labels=labels, e=e, d=d, baseline=baseline, baseline_run=baseline_run)


def draw_compute_curve(curve: ComputeCurve, path: Path,
                       other_losses: tuple[tuple[str, float, float], ...] = ()) -> Path:
    """% proved (Wilson 95% interval) against training hours, the baseline as a line, the 20% / 6 h target;
    beside it the models' valid loss against the same hours, with ``other_losses`` ((name, hours, valid
    loss) of models not on the curve) as hollow markers."""
    fig, (ax, ax2) = new_figure(1, 2, figsize=(11, 4.2))
    n = len(curve.labels)
    hours = [p.train_hours for p in curve.points]
    pct = [100.0 * p.proved / p.attempted for p in curve.points]
    lo = [max(0.0, v - p.interval_pct[0]) for v, p in zip(pct, curve.points, strict=True)]
    hi = [max(0.0, p.interval_pct[1] - v) for v, p in zip(pct, curve.points, strict=True)]
    ax.errorbar(hours, pct, yerr=[lo, hi], marker="o", capsize=4, label="model (4x128), Wilson 95%")
    for p, h, v in zip(curve.points, hours, pct, strict=True):
        ax.annotate(f"{p.model}\n{p.proved}/{p.attempted}", (h, v), textcoords="offset points", xytext=(6, 6),
                    fontsize=8)
    curves = 1
    if curve.baseline is not None:
        k, m = curve.baseline
        b = 100.0 * k / m
        blo, bhi = wilson_interval(k, m)
        ax.axhline(b, color="C1", linestyle="--", label=f"frequency baseline {k}/{m} (no training)")
        ax.axhspan(100 * blo, 100 * bhi, color="C1", alpha=0.12)
        curves += 1
    ax.axhline(TARGET_PROVED_PCT, color="C3", linestyle=":")
    ax.axvline(TARGET_TRAIN_HOURS, color="C3", linestyle=":")
    ax.plot([TARGET_TRAIN_HOURS], [TARGET_PROVED_PCT], marker="*", markersize=14, color="C3", linestyle="none",
            label=f"target: {TARGET_PROVED_PCT:g}% within {TARGET_TRAIN_HOURS:g} CPU-h")
    ax.set_xscale("log")
    xlim = (min(hours + [0.1]) / 1.5, TARGET_TRAIN_HOURS * 1.6)
    ax.set_xlim(*xlim)
    ax.set_ylim(0, max([30.0] + [p.interval_pct[1] + 2 for p in curve.points]))
    ax.set_xlabel("training time (1-thread hours, as recorded by the run)")
    ax.set_ylabel(f"% proved, first {n} clean test theorems")
    ax.set_title(f"prover: % proved vs training compute (e={curve.e}, d={curve.d})")
    ax.legend(fontsize=8, loc="upper left")
    ax2.plot(hours, [p.valid_loss for p in curve.points], marker="o")
    for p, h in zip(curve.points, hours, strict=True):
        ax2.annotate(f"{p.steps} steps", (h, p.valid_loss), textcoords="offset points", xytext=(6, 4), fontsize=8)
    for name, h, loss in other_losses:
        ax2.plot([h], [loss], marker="o", markerfacecolor="none", color="grey", linestyle="none")
        ax2.annotate(name, (h, loss), textcoords="offset points", xytext=(6, 4), fontsize=8, color="grey")
    ax2.set_xscale("log")
    ax2.set_xlim(*xlim)
    ax2.set_xlabel("training time (1-thread hours)")
    ax2.set_ylabel("valid loss (nats / completion token)")
    ax2.set_title("the same models' valid loss")
    return save_figure(fig, path, curves=curves + 1)


@paper_figure("prover", "compute", title="% proved on the clean test split vs training compute (issue 17)")
def compare_compute(runs: list[Run], out: Path) -> list[Path]:
    """`compute_curve` of the runs, drawn (`draw_compute_curve`)."""
    curve = compute_curve(runs)
    if curve is None or not curve.points:
        return []
    return [draw_compute_curve(curve, out / "prover_proved_vs_compute.png")]
