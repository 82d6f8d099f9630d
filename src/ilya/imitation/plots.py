"""The paper's figure (success rate against number of stages) and each run's success by stages.

* ``success_by_stages.png`` (one run): training and test tasks, with 95 % Wilson intervals, the expert beside.
* ``stages`` (paper figure, all runs): test-task success against number of stages, one line per variant
  (algorithm x conditioning x ensemble, the latest run of each), the expert, and the paper's DAgger and BC
  numbers as dashed lines.
* ``stages_seeds`` (paper figure): the same, mean ± s.e. over the seeds of every recipe trained with 3 seeds or
  more, test and training tasks side by side.
* ``stages_task_sets`` (paper figure): one figure per task set other than the default one (e.g. the paper's 140 /
  43 tasks of 10 blocks): test and training tasks side by side, the latest run of each algorithm with Wilson
  intervals, the expert and the paper's numbers beside.  ``stages`` and ``stages_seeds`` hold the default set only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ilya.core.figures import HeadlineRow, headline, paper_figure, run_figure
from ilya.core.plotting import new_figure, save_figure
from ilya.core.runs import Run
from ilya.core.stats import mean_se

PAPER_TEST = {
    "dagger": {2: 94.9, 4: 77.0, 6: 50.6, 7: 36.5, 8: 18.0},
    "bc": {2: 95.9, 4: 74.8, 6: 46.5, 7: 38.5, 8: 24.0},
}
"""Duan et al. 2017, test tasks, conditioned on the whole demonstration (percent)"""
COLOURS = {"dagger": "#d62728", "bc": "#1f77b4", "expert": "#2ca02c"}
NAMES = {"dagger": "DAgger", "bc": "BC"}
TASK_SET_KEYS = ("max_blocks", "max_stages", "train_tasks", "test_tasks", "task_seed", "physics")
"""the config keys that name a task set"""
DEFAULT_TASK_SET = (6, 5, 40, 12, 0, "hybrid")
"""the default task set's values of TASK_SET_KEYS (`ilya.imitation.config.TaskSetConfig`)"""


def task_set_of(run: Run) -> tuple[Any, ...]:
    """The task set a run was trained on, as the values of TASK_SET_KEYS (defaults where the config lacks one)."""
    return tuple(run.config.get(k, d) for k, d in zip(TASK_SET_KEYS, DEFAULT_TASK_SET, strict=True))


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


def _expert_and_paper(ax: Any, expert: dict[str, Any] | None) -> int:
    """The scripted expert's curve and the paper's test-task numbers on ``ax``; returns the curves drawn."""
    curves = 0
    if expert is not None:
        xs, ys, _, _ = _curve(expert)
        ax.plot(xs, ys, ":", marker="s", color=COLOURS["expert"], label="ours: scripted expert")
        curves += 1
    for algo, pts in PAPER_TEST.items():
        ax.plot(list(pts), list(pts.values()), "--", marker="x", color=COLOURS[algo], alpha=0.45,
                label=f"paper: {NAMES[algo]} (140/43 tasks, 10 blocks)")
        curves += 1
    return curves


def draw_stages(runs: list[Run], out: Path, title: str = "") -> Path | None:
    """The paper's figure from our runs (test tasks)."""
    latest: dict[str, tuple[float, dict[str, Any], Run]] = {}
    expert: dict[str, Any] | None = None
    for run in runs:
        if run.system != "imitation" or task_set_of(run) != DEFAULT_TASK_SET:
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
    curves += _expert_and_paper(ax, expert)
    ax.set_xlabel("number of stages")
    ax.set_ylabel("success rate on test tasks (%)")
    ax.set_ylim(-3, 103)
    ax.set_title(title or "One-shot imitation: success against number of stages")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return save_figure(fig, out / "imitation_stages.png", curves=curves)


SEED_FREE = {"seed", "run", "fresh", "device", "runs_dir", "workers", "address", "threads", "json", "eval_trials",
             "log_every", "heldout_every", "ckpt_every"}
"""config keys that do not make another recipe (runs differing only in these are seeds of one recipe)"""


def seed_groups(runs: list[Run], min_seeds: int = 3) -> dict[str, list[Run]]:
    """name -> the finished runs of one recipe (same config but the seed), for recipes with ``min_seeds`` seeds
    or more; the name is the first run's, less a trailing ``-seedN``."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        if run.system != "imitation" or "test" not in run.read_summary() or task_set_of(run) != DEFAULT_TASK_SET:
            continue
        key = json.dumps({k: v for k, v in run.config.items() if k not in SEED_FREE}, sort_keys=True, default=str)
        groups.setdefault(key, []).append(run)
    out: dict[str, list[Run]] = {}
    for members in groups.values():
        seeds = {m.config.get("seed") for m in members}
        if len(seeds) >= min_seeds:
            members = sorted(members, key=lambda m: (m.config.get("seed", 0), m.name))
            out[re.sub(r"-seed\d+$", "", members[0].name)] = members
    return out


def seed_means(members: list[Run], label: str, split: str) -> dict[int, tuple[float, float, list[float]]]:
    """stages -> (mean, s.e. over seeds, per-seed rates) in percent of one variant (a `variants` label) on a split."""
    per: dict[int, list[float]] = {}
    for run in members:
        s = run.read_summary()
        res = None
        if label.endswith("(demo, 1 demo)") and label.split(" ")[0].lower() == s.get("algo"):
            res = s.get(split)
        for key, val in s.items():
            if key.startswith("eval/") and isinstance(val, dict) and split in val:
                c, e = key[5:].split("_e")
                lab = f"{s.get('algo', '?').upper()} ({'final state' if c == 'final' else 'demo'}, {e} demo" + \
                      ("s)" if e != "1" else ")")
                if lab == label and res is None:
                    res = val[split]
        if res is None:
            return {}
        for n, r in res["by_stages"].items():
            per.setdefault(int(n), []).append(100 * r["success"])
    out: dict[int, tuple[float, float, list[float]]] = {}
    for n, vals in sorted(per.items()):
        m, se = mean_se(vals)
        out[n] = (m, se, vals)
    return out


def draw_seed_means(runs: list[Run], out: Path) -> Path | None:
    """The paper's figure from every recipe with 3 seeds or more: mean ± s.e. over seeds by stages, test tasks
    (left) and training tasks (right), each variant evaluated on every seed, the expert and the paper beside."""
    groups = seed_groups(runs)
    if not groups:
        return None
    fig, axes = new_figure(1, 2, figsize=(12, 4.6), sharey=True)
    curves = 0
    styles = ["-", "-.", (0, (3, 1, 1, 1)), (0, (5, 2))]
    expert: dict[str, Any] | None = None
    i = 0
    for name, members in groups.items():
        labels = sorted(set.intersection(*[set(variants(m)) for m in members]))
        for label in labels:
            algo = "dagger" if label.startswith("DAGGER") else "bc"
            for ax, split in zip(axes, ("test", "train"), strict=True):
                pts = seed_means(members, label, split)
                if not pts:
                    continue
                xs = list(pts)
                ax.errorbar([x + 0.04 * (i % 5 - 2) for x in xs], [pts[x][0] for x in xs],
                            yerr=[pts[x][1] for x in xs], linestyle=styles[i % len(styles)], marker="o", capsize=3,
                            color=COLOURS[algo], alpha=0.9,
                            label=f"ours: {name}, {label.replace('DAGGER', 'DAgger')}, {len(members)} seeds")
                curves += 1
            i += 1
        expert = members[0].read_summary().get("expert", expert)
    curves += _expert_and_paper(axes[0], expert)
    axes[0].set_title("test tasks (held-out layouts)")
    axes[1].set_title("training tasks (fresh initial states)")
    for ax in axes:
        ax.set_xlabel("number of stages")
        ax.set_ylim(-3, 103)
    axes[0].set_ylabel("success rate (%), mean ± s.e. over seeds")
    axes[0].legend(fontsize=6.5, loc="lower left")
    fig.suptitle("One-shot imitation: success against number of stages, mean over training seeds")
    fig.tight_layout()
    return save_figure(fig, out / "imitation_stages_seeds.png", curves=curves)


def draw_task_set(runs: list[Run], out: Path, task_set: tuple[Any, ...]) -> Path | None:
    """Success against number of stages on one task set: test tasks (left) and training tasks (right), the latest
    finished run of each algorithm (whole demonstration, 1 demo) with 95 % Wilson bands, the expert of the runs'
    own evaluation (test tasks) and the paper's numbers (test tasks) beside."""
    latest: dict[str, tuple[float, Run]] = {}
    for run in runs:
        s = run.read_summary()
        if run.system != "imitation" or "test" not in s or task_set_of(run) != task_set:
            continue
        mtime = (run.path / "summary.json").stat().st_mtime
        algo = str(s.get("algo", "?"))
        if run.config.get("conditioning", "demo") == "demo" and (algo not in latest or mtime > latest[algo][0]):
            latest[algo] = (mtime, run)
    if not latest:
        return None
    fig, axes = new_figure(1, 2, figsize=(12, 4.6), sharey=True)
    curves = 0
    expert: dict[str, Any] | None = None
    for algo, (_, run) in sorted(latest.items()):
        s = run.read_summary()
        for ax, split in zip(axes, ("test", "train"), strict=True):
            if split not in s:
                continue
            xs, ys, lo, hi = _curve(s[split])
            ax.plot(xs, ys, "-", marker="o", color=COLOURS.get(algo, "k"),
                    label=f"ours: {NAMES.get(algo, algo)} ({run.name}, {s.get('steps')} steps)")
            ax.fill_between(xs, lo, hi, alpha=0.12, color=COLOURS.get(algo, "k"))
            curves += 1
        expert = s.get("expert", expert)
    curves += _expert_and_paper(axes[0], expert)
    blocks, stages, n_train, n_test = task_set[:4]
    axes[0].set_title(f"test tasks ({n_test} held-out layouts)")
    axes[1].set_title(f"training tasks ({n_train} layouts, fresh initial states)")
    for ax in axes:
        ax.set_xlabel("number of stages")
        ax.set_ylim(-3, 103)
        ax.set_xticks(range(1, int(stages) + 1))
    axes[0].set_ylabel("success rate (%), 95 % Wilson band")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"One-shot imitation: success against number of stages, {blocks} blocks, 1-{stages} stages")
    fig.tight_layout()
    return save_figure(fig, out / f"imitation_stages_{blocks}blocks_{stages}stages.png", curves=curves)


@paper_figure("imitation", "stages_task_sets", title="Success against number of stages on the larger task sets")
def stages_task_sets_figure(runs: list[Run], out: Path) -> list[Path]:
    sets = sorted({task_set_of(r) for r in runs if r.system == "imitation"} - {DEFAULT_TASK_SET}, key=str)
    return [p for ts in sets if (p := draw_task_set(runs, out, ts)) is not None]


@paper_figure("imitation", "stages_seeds", title="Success against number of stages, mean ± s.e. over seeds")
def stages_seeds_figure(runs: list[Run], out: Path) -> list[Path]:
    p = draw_seed_means(runs, out)
    return [p] if p is not None else []


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
            budget=f"{s.get('steps')} steps, {s.get('wall_s', 0) / 60:.0f} min wall-clock"
                   + (f", {s['cpu_s'] / 60:.0f} CPU-min" if "cpu_s" in s else ""),
            run=f"imitation/{run.name}", command=f"ilya imitation train --algo {algo} --steps {s.get('steps')}"
            + "".join(f" --{k.replace('_', '-')} {v}" for k, v, d in zip(TASK_SET_KEYS, task_set_of(run),
                                                                      DEFAULT_TASK_SET, strict=True) if v != d)))
    return rows
