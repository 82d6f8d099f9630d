"""The paper's figure (success rate against number of stages) and each run's success by stages.

* ``success_by_stages.png`` (one run): training and test tasks, with 95 % Wilson intervals, the expert beside.
* ``stages`` (paper figure, all runs): test-task success against number of stages, one line per variant
  (algorithm x conditioning x ensemble, the latest run of each), the expert, and the paper's DAgger and BC
  numbers as dashed lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ilya.core.figures import HeadlineRow, headline, paper_figure, run_figure
from ilya.core.plotting import new_figure, save_figure
from ilya.core.runs import Run

PAPER_TEST = {
    "dagger": {2: 94.9, 4: 77.0, 6: 50.6, 7: 36.5, 8: 18.0},
    "bc": {2: 95.9, 4: 74.8, 6: 46.5, 7: 38.5, 8: 24.0},
}
"""Duan et al. 2017, test tasks, conditioned on the whole demonstration (percent)"""
COLOURS = {"dagger": "#d62728", "bc": "#1f77b4", "expert": "#2ca02c"}
NAMES = {"dagger": "DAgger", "bc": "BC"}


def _curve(res: dict[str, Any]) -> tuple[list[int], list[float], list[float], list[float]]:
    st = sorted(res["by_stages"], key=int)
    xs = [int(s) for s in st]
    return (xs, [100 * res["by_stages"][s]["success"] for s in st], [100 * res["by_stages"][s]["lo"] for s in st],
            [100 * res["by_stages"][s]["hi"] for s in st])


def variants(run: Run) -> dict[str, dict[str, Any]]:
    """label -> test-task evaluation of every variant recorded in a run's summary."""
    s = run.read_summary()
    algo = s.get("algo", run.config.get("algo", "?"))
    cond = run.config.get("conditioning", "demo")
    out: dict[str, dict[str, Any]] = {}
    if "test" in s:
        out[f"{algo.upper()} ({cond}, 1 demo)"] = s["test"]
    for key, val in s.items():
        if key.startswith("eval/") and isinstance(val, dict) and "test" in val:
            c, e = key[5:].split("_e")
            label = f"{algo.upper()} ({'final state' if c == 'final' else 'demo'}, {e} demo{'s' if e != '1' else ''})"
            out[label] = val["test"]
    return out


@run_figure("imitation", "success_by_stages")
def success_by_stages(run: Run) -> list[Path]:
    s = run.read_summary()
    if "test" not in s:
        return []
    fig, ax = new_figure()
    curves = 0
    for split, style in (("train", "-"), ("test", "--")):
        if split in s:
            xs, ys, lo, hi = _curve(s[split])
            ax.plot(xs, ys, style, marker="o", color=COLOURS.get(s.get("algo", ""), "k"),
                    label=f"{NAMES.get(s.get('algo', ''), '?')}, {split} tasks")
            ax.fill_between(xs, lo, hi, alpha=0.12, color=COLOURS.get(s.get("algo", ""), "k"))
            curves += 1
    if "expert" in s:
        xs, ys, _, _ = _curve(s["expert"])
        ax.plot(xs, ys, ":", marker="s", color=COLOURS["expert"], label="scripted expert, test tasks")
        curves += 1
    ax.set_xlabel("number of stages")
    ax.set_ylabel("success rate (%)")
    ax.set_ylim(-3, 103)
    ax.set_title(f"{run.name}: success by number of stages ({run.config.get('physics', '')})")
    ax.legend()
    return [save_figure(fig, run.plots_dir / "success_by_stages.png", curves=curves)]


def draw_stages(runs: list[Run], out: Path, title: str = "") -> Path | None:
    """The paper's figure from our runs (test tasks)."""
    latest: dict[str, tuple[float, dict[str, Any], Run]] = {}
    expert: dict[str, Any] | None = None
    for run in runs:
        if run.system != "imitation":
            continue
        mtime = (run.path / "summary.json").stat().st_mtime if (run.path / "summary.json").exists() else 0.0
        for label, res in variants(run).items():
            if label not in latest or mtime > latest[label][0]:
                latest[label] = (mtime, res, run)
        s = run.read_summary()
        if "expert" in s:
            expert = s["expert"]
    if not latest:
        return None
    fig, ax = new_figure(figsize=(9.5, 4.5))
    curves = 0
    styles = ["-", "-.", (0, (3, 1, 1, 1)), (0, (5, 2))]
    for i, (label, (_, res, _)) in enumerate(sorted(latest.items())):
        xs, ys, _, _ = _curve(res)
        algo = "dagger" if label.startswith("DAGGER") else "bc"
        ax.plot(xs, ys, linestyle=styles[i % len(styles)], marker="o", color=COLOURS[algo], alpha=0.9,
                label=f"ours: {label.replace('DAGGER', 'DAgger')}")
        curves += 1
    if expert is not None:
        xs, ys, _, _ = _curve(expert)
        ax.plot(xs, ys, ":", marker="s", color=COLOURS["expert"], label="ours: scripted expert")
        curves += 1
    for algo, pts in PAPER_TEST.items():
        ax.plot(list(pts), list(pts.values()), "--", marker="x", color=COLOURS[algo], alpha=0.45,
                label=f"paper: {'DAgger' if algo == 'dagger' else 'BC'} (140/43 tasks, 10 blocks)")
        curves += 1
    ax.set_xlabel("number of stages")
    ax.set_ylabel("success rate on test tasks (%)")
    ax.set_ylim(-3, 103)
    ax.set_title(title or "One-shot imitation: success against number of stages")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return save_figure(fig, out / "imitation_stages.png", curves=curves)


@paper_figure("imitation", "stages", title="Success rate against number of stages (test tasks), paper beside ours")
def stages_figure(runs: list[Run], out: Path) -> list[Path]:
    p = draw_stages(runs, out)
    return [p] if p is not None else []


@headline("imitation")
def headline_rows(runs: list[Run]) -> list[HeadlineRow]:
    rows: list[HeadlineRow] = []
    for run in runs:
        s = run.read_summary()
        if run.system != "imitation" or "test" not in s:
            continue
        algo = s.get("algo", "")
        two = s["test"]["by_stages"].get("2")
        if two is None:
            continue
        paper = PAPER_TEST.get(algo, {}).get(2)
        rows.append(HeadlineRow(
            claim=f"{'DAgger' if algo == 'dagger' else 'BC'}: success on 2-stage test tasks",
            paper=f"{paper}%" if paper is not None else "",
            ours=f"{100 * two['success']:.1f}% [{100 * two['lo']:.0f}, {100 * two['hi']:.0f}] (n={int(two['n'])})",
            protocol=f"{run.config.get('train_tasks')} train / {run.config.get('test_tasks')} test tasks, "
                     f"up to {run.config.get('max_blocks')} blocks, {run.config.get('physics')} physics",
            budget=f"{s.get('steps')} steps, {s.get('wall_s', 0) / 60:.0f} CPU-min",
            run=f"imitation/{run.name}", command=f"ilya imitation train --algo {algo} --steps {s.get('steps')}"))
    return rows
