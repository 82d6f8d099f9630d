"""Figures of `ilya five`: TrueSkill over training (the headline), staleness and sample reuse, win rates,
and the ablations (team spirit, staleness, surgery) from groups of runs."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from ilya.core.figures import HeadlineRow, headline, paper_figure, run_figure
from ilya.core.plotting import new_figure, save_figure
from ilya.core.runs import Run
from ilya.core.stats import mean_se


def trueskill_figure(run: Run) -> Path:
    """TrueSkill μ (random heroes = 0) of the run's snapshots against game steps, the scripted bot as a line."""
    res = json.loads((run.path / "trueskill.json").read_text())
    snaps = sorted((r for r in res["ratings"] if r["version"] >= 0), key=lambda r: r["game_steps"])
    fig, ax = new_figure()
    xs = [r["game_steps"] for r in snaps]
    ax.errorbar(xs, [r["mu"] for r in snaps], yerr=[r["sigma"] for r in snaps], marker="o", label="policy snapshots")
    for ref, style in (("scripted", "--"), ("random", ":")):
        mu = next(r["mu"] for r in res["ratings"] if r["name"] == ref)
        ax.axhline(mu, linestyle=style, color="gray", label=f"{ref} ({mu:+.1f})")
    ax.set_xlabel("game steps of training")
    ax.set_ylabel("TrueSkill μ (random heroes = 0)")
    ax.set_title(f"five/{run.name}: TrueSkill over training")
    ax.legend()
    return save_figure(fig, run.plots_dir / "trueskill.png", curves=1)


@run_figure("five", "trueskill")
def _trueskill(run: Run) -> list[Path]:
    return [trueskill_figure(run)] if (run.path / "trueskill.json").exists() else []


@run_figure("five", "staleness")
def staleness_figure(run: Run) -> list[Path]:
    """Staleness (policy versions behind the learner) and sample reuse per iteration, on two axes."""
    s_steps, stale = run.series("staleness")
    r_steps, reuse = run.series("sample_reuse")
    if not s_steps:
        return []
    fig, axes = new_figure(2, 1, sharex=True, figsize=(6, 5))
    axes[0].plot(s_steps, stale)
    axes[0].set_ylabel("staleness (versions)")
    axes[0].set_title(f"five/{run.name}: staleness and sample reuse")
    axes[1].plot(r_steps, reuse)
    axes[1].set_ylabel("sample reuse")
    axes[1].set_xlabel("iteration")
    return [save_figure(fig, run.plots_dir / "staleness_reuse.png", curves=2)]


@run_figure("five", "winrates")
def winrate_figure(run: Run) -> list[Path]:
    """Win rates of the evaluations during training against both references, over game steps; the policy
    --keep-best chose marked."""
    gs = dict(zip(*run.series("game_steps"), strict=True))
    fig, ax = new_figure()
    curves = 0
    for key, label in (("eval/win_rate_scripted", "vs the scripted bot"), ("eval/win_rate_random", "vs random heroes")):
        steps, vals = run.series(key)
        if steps:
            ax.plot([gs.get(s, np.nan) for s in steps], vals, marker="o", markersize=3, label=label)
            curves += 1
    if curves == 0:
        return []
    _, best = run.series("eval/best_iteration")
    kept = int(best[-1]) if best else -1
    if kept in gs:
        ax.axvline(gs[kept], color="gray", linestyle="--", label=f"kept policy (iteration {kept})")
    ax.axhline(0.8, color="gray", linestyle=":", label="target 0.8")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("game steps of training")
    ax.set_ylabel("win rate (evaluations during training)")
    ax.set_title(f"five/{run.name}: win rate during training")
    ax.legend()
    return [save_figure(fig, run.plots_dir / "win_rates.png", curves=curves)]


# ------------------------------------------------------------------------------------------ ablations
ABLATION = re.compile(r"^abl-(?P<group>[a-z]+)-(?P<arm>[A-Za-z0-9.]+)-s(?P<seed>\d+)$")


def _ablation_runs(runs: list[Run]) -> dict[str, dict[str, list[Run]]]:
    out: dict[str, dict[str, list[Run]]] = defaultdict(lambda: defaultdict(list))
    for r in runs:
        m = ABLATION.match(r.name)
        if m and r.system == "five":
            out[m["group"]][m["arm"]].append(r)
    return out


def ablation_figure(group: str, arms: dict[str, list[Run]], out: Path, key: str = "eval/win_rate_scripted"
                    ) -> Path | None:
    """Mean ± s.e. over seeds of ``key`` against game steps, one curve per arm."""
    fig, ax = new_figure()
    curves = 0
    for arm, rs in sorted(arms.items()):
        series = []
        for r in rs:
            steps, vals = r.series(key)
            gs = dict(zip(*r.series("game_steps"), strict=True))
            if steps:
                series.append(([gs.get(s, np.nan) for s in steps], vals))
        if not series:
            continue
        n = min(len(v) for _, v in series)
        xs = np.nanmean([np.asarray(x[:n], float) for x, _ in series], 0)
        ys = np.asarray([v[:n] for _, v in series], float)
        m = ys.mean(0)
        se = ys.std(0, ddof=1) / np.sqrt(len(ys)) if len(ys) > 1 else np.zeros_like(m)
        ax.plot(xs, m, marker="o", label=f"{arm} ({len(series)} seeds)")
        ax.fill_between(xs, m - se, m + se, alpha=0.2)
        curves += 1
    if curves == 0:
        return None
    ax.set_xlabel("game steps of training")
    ax.set_ylabel(key.split("/")[-1].replace("_", " "))
    ax.set_title(f"five ablation: {group}")
    ax.legend()
    return save_figure(fig, out / f"ablation_{group}_{key.split('/')[-1]}.png", curves=curves)


@paper_figure("five", "ablations", title="Ablations: team spirit, staleness, surgery vs from scratch")
def ablations(runs: list[Run], out: Path) -> list[Path]:
    paths = []
    for group, arms in _ablation_runs(runs).items():
        for key in ("eval/win_rate_random", "eval/win_rate_scripted", "game/last_hits"):
            p = ablation_figure(group, arms, out, key)
            if p is not None:
                paths.append(p)
    return paths


# ------------------------------------------------------------------ the sampling temperature's effect
def _se(r: dict) -> float:
    """Binomial standard error of a win rate (wins + draws / 2 per game)."""
    p, n = r["win_rate"], r["games"]
    return float(np.sqrt(max(p * (1 - p), 0.0) / max(n, 1)))


def temperature_figure(studies: list[dict], out: Path) -> list[Path]:
    """From `ilya.five.evaluate.temperature_study` results (one per run): the win rate against the bot
    over the sampling temperature, one curve per run with its standard error; and the win rates with one
    temperature per head, one group of bars per head setting."""
    studies = [s for s in studies if s.get("temperatures")]
    if not studies:
        return []
    fig, ax = new_figure()
    for s in studies:
        rs = sorted(s["temperatures"], key=lambda r: r["temperature"])
        ax.errorbar([r["temperature"] for r in rs], [r["win_rate"] for r in rs], yerr=[_se(r) for r in rs],
                    marker="o", capsize=3,
                    label=f"five/{s['run']} ({'kept' if s['policy'] == 'best' else s['policy']} policy)")
    ax.axhline(0.8, color="gray", linestyle=":", label="target 0.8")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("sampling temperature (1: as trained)")
    ax.set_ylabel(f"win rate vs the {studies[0]['opponent']} bot ({studies[0]['games']} held-out games)")
    ax.set_title("five: the kept policies' win rate against the sampling temperature")
    ax.legend()
    paths = [save_figure(fig, out / "temperature.png", curves=len(studies))]
    with_heads = [s for s in studies if s.get("heads")]
    if with_heads:
        fig, ax = new_figure(figsize=(8, 4.5))
        labels = ["all 1"] + ["(" + ", ".join(f"{t:g}" for t in r["temperature"]) + ")"
                              for r in with_heads[0]["heads"]] + ["all 0.25"]
        width = 0.8 / len(with_heads)
        for i, s in enumerate(with_heads):
            by_t = {r["temperature"]: r for r in s["temperatures"]}
            rs = [by_t.get(1.0)] + list(s["heads"]) + [by_t.get(0.25)]
            xs = [j + (i - (len(with_heads) - 1) / 2) * width for j in range(len(rs))]
            ax.bar(xs, [r["win_rate"] if r else np.nan for r in rs], width,
                   yerr=[_se(r) if r else 0.0 for r in rs], capsize=2, label=f"five/{s['run']}")
        ax.axhline(0.8, color="gray", linestyle=":", label="target 0.8")
        ax.set_xticks(range(len(labels)), labels, rotation=20)
        ax.set_xlabel("temperature of the (kind, direction, target) heads")
        ax.set_ylabel("win rate vs the scripted bot")
        ax.set_ylim(0, 1.05)
        ax.set_title("five: which head's sampling noise costs the games")
        ax.legend(fontsize=8)
        paths.append(save_figure(fig, out / "temperature_heads.png", curves=len(with_heads)))
    return paths


@paper_figure("five", "temperature", title="Win rate against the sampling temperature (kept policies)")
def temperature(runs: list[Run], out: Path) -> list[Path]:
    studies = [json.loads((r.path / "temperature.json").read_text()) for r in runs
               if r.system == "five" and (r.path / "temperature.json").is_file()]
    return temperature_figure(studies, out)


@headline("five")
def rows(runs: list[Run]) -> list[HeadlineRow]:
    out = []
    for r in runs:
        s = r.read_summary()
        if r.system != "five" or "win_rate_scripted" not in s:
            continue
        ours, protocol = f"{s['win_rate_scripted']:.2f}", "games split between the two sides"
        bench = r.path / "benchmark.json"
        if bench.is_file():  # benchmarks/five_selfplay_30min.py: the run's policy on 64 held-out games
            b = json.loads(bench.read_text())
            ev2 = b.get("vs_scripted_other_t", b.get("vs_scripted_t1"))  # the earlier runs: 0.25, then 1
            if "vs_scripted" in b and ev2 is not None:
                ev = b["vs_scripted"]
                t1, t2 = b.get("temperature", 0.25), b.get("other_temperature", 1.0)
                ours = f"{ev['win_rate']:.2f} at temperature {t1:g}, {ev2['win_rate']:.2f} at {t2:g} ({b['policy']} policy)"
                protocol = f"{ev['games']} held-out games split between the two sides"
        out.append(HeadlineRow(
            claim="win rate against the scripted bot", paper="99.4% against the public (Dota 2, humans)",
            ours=ours, protocol=protocol,
            budget=f"{s.get('train_minutes', 0):.1f} wall-min, {s.get('train_cpu_minutes', 0):.1f} CPU-min, "
                   f"{s.get('game_steps', 0):,} game steps",
            run=f"five/{r.name}", command=(f"ilya five train --cpu-minutes {s['budget_cpu_minutes']:g}"
                                           if s.get("budget_cpu_minutes") else
                                           f"ilya five train --minutes {s.get('train_minutes', 0):.0f}")))
    finals = [r.read_summary().get("win_rate_scripted") for r in runs if r.system == "five"]
    finals = [f for f in finals if isinstance(f, float)]
    if len(finals) > 1:
        m, se = mean_se(finals)
        out.append(HeadlineRow(claim="mean over runs", paper="", ours=f"{m:.2f} ± {se:.2f}"))
    return out
