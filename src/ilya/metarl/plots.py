"""The paper's figures: return vs environment steps per algorithm, and where the agent goes in a world.

* ``learning_curve.png`` (one run): held-out test return vs env steps, ± standard error, random floor.
* ``exploration.png`` (one run): a test world, and heat maps of the cells visited by the pre-update and
  post-update policies (MAML) or in the exploratory and the scored episodes (RL²).
* ``compare_return.png`` (`ilya metarl compare`): one curve per algorithm, mean over seeds with a shaded
  ± one standard deviation band, the random policy's return as a dashed line (as in the paper's figures).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ilya.core.plotting import new_figure, save_figure
from ilya.core.runs import Run

COLOURS = {"maml": "#1f77b4", "emaml": "#d62728", "rl2": "#2ca02c", "erl2": "#ff7f0e"}
LABELS = {"maml": "MAML", "emaml": "E-MAML", "rl2": "RL²", "erl2": "E-RL²"}


def learning_curve(run: Run) -> Path | None:
    steps, ret = run.series("test/return")
    if not steps:
        return None
    _, se = run.series("test/return_se")
    _, floor = run.series("test/random")
    fig, ax = new_figure()
    algo = run.config.get("algo", "")
    ax.plot(steps, ret, color=COLOURS.get(algo), label=LABELS.get(algo, algo))
    if len(se) == len(ret) - 1:  # the step-0 evaluation has no standard error logged
        se = [0.0, *se]
    if len(se) == len(ret):
        lo, hi = np.array(ret) - np.array(se), np.array(ret) + np.array(se)
        ax.fill_between(steps, lo, hi, color=COLOURS.get(algo), alpha=0.2)
    if floor:
        ax.axhline(float(np.mean(floor)), color="grey", linestyle="--", label="random policy")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("test return per episode (held-out worlds)")
    ax.set_title(f"{run.config.get('env', '')}: {LABELS.get(algo, algo)} (seed {run.config.get('seed')})")
    ax.legend()
    return save_figure(fig, run.plots_dir / "learning_curve.png")


def visit_counts(pos: np.ndarray, mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Histogram of visited cells: pos (..., 2) with mask (...) -> (H, W) counts."""
    p = pos.reshape(-1, 2)[mask.reshape(-1) > 0]
    counts = np.zeros(shape)
    np.add.at(counts, (p[:, 0], p[:, 1]), 1.0)
    return counts


def exploration_figure(learner: Any, task_seed: int, path: Path, episodes: int = 16) -> Path:
    """World picture plus the heat maps of where the agent went before and after adapting to it."""
    from ilya.metarl.sampling import rollout_mlp, rollout_rnn

    spec, cfg = learner.spec, learner.cfg
    env = spec.make([task_seed])
    env.reset()
    world = env.render(0, true_colours=True) if spec.name == "krazy" else env.render(0)
    shape = env.board0.shape[1:] if hasattr(env, "board0") else env.grid.shape[1:]
    if hasattr(learner, "params"):
        theta, adapted = learner.adapted_numpy(np.array([task_seed]), seed=4242)
        pre = rollout_mlp(spec, [task_seed], [0], theta, episodes, 4243, positions=True)
        post = rollout_mlp(spec, [task_seed], [0], adapted, episodes, 4244, positions=True)
        heat = [visit_counts(pre["pos"], pre["mask"], shape), visit_counts(post["pos"], post["mask"], shape)]
        rets = [pre["rewards"].sum(-1).mean(), post["rewards"].sum(-1).mean()]
        titles = ["pre-update policy π_θ", "post-update policy π_θ'"]
    else:
        n = max(2, episodes // cfg.n_episodes)
        state = {k: v.detach().numpy() for k, v in learner.net.state_dict().items()}
        b = rollout_rnn(spec, [task_seed] * n, list(range(n)), learner.net_kwargs, state, cfg.n_episodes, 4243,
                        positions=True)
        split = cfg.n_explore * spec.horizon
        heat = [visit_counts(b["pos"][:, :split], b["mask"][:, :split], shape),
                visit_counts(b["pos"][:, split:], b["mask"][:, split:], shape)]
        ep = b["rewards"].reshape(n, cfg.n_episodes, spec.horizon).sum(-1)
        rets = [ep[:, : cfg.n_explore].mean(), ep[:, cfg.n_explore:].mean()]
        titles = [f"exploratory episodes 1-{cfg.n_explore}", f"scored episodes {cfg.n_explore + 1}-{cfg.n_episodes}"]
    fig, axes = new_figure(1, 3, figsize=(12, 4))
    axes[0].imshow(world)
    axes[0].set_title(f"{spec.name} world {task_seed}")
    if spec.name == "krazy":
        from matplotlib.patches import Patch

        from ilya.metarl.envs.krazy import AGENT_COLOUR, BASE_PALETTE, TILE_NAMES

        handles = [Patch(color=c / 255.0, label=n) for c, n in zip(BASE_PALETTE, TILE_NAMES, strict=True)]
        handles.append(Patch(color=AGENT_COLOUR / 255.0, label="agent (start)"))
        axes[0].legend(handles=handles, loc="upper left", bbox_to_anchor=(-0.45, 1.0), fontsize=7)
    for ax, h, title, r in zip(axes[1:], heat, titles, rets, strict=True):
        ax.imshow(world, alpha=0.35)
        ext = (-0.5, world.shape[1] - 0.5, world.shape[0] - 0.5, -0.5)
        im = ax.imshow(np.where(h > 0, h, np.nan), cmap="magma_r", alpha=0.8, extent=ext,
                       interpolation="nearest")
        ax.set_title(f"{title}\nmean return {r:+.2f}")
        fig.colorbar(im, ax=ax, fraction=0.046, label="visits")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    return save_figure(fig, path, curves=0)


def draw_run_figures(run: Run, learner: Any) -> list[Path]:
    paths = [p for p in [learning_curve(run)] if p is not None]
    test_seed = int(run.config.get("world_seed", 0)) * 1_000_000 + 500_000
    paths.append(exploration_figure(learner, test_seed, run.plots_dir / "exploration.png"))
    return paths


def compare_figure(curves: Mapping[str, Sequence[tuple[Sequence[float], Sequence[float]]]],
                   floor: float | None, path: Path, title: str) -> Path:
    """Mean ± std over seeds of each algorithm's (env steps, test return) curves, on a common step grid."""
    fig, ax = new_figure(figsize=(7, 4.5))
    n_curves = 0
    for algo, runs in curves.items():
        runs = [(np.asarray(s, float), np.asarray(r, float)) for s, r in runs if len(s)]
        if not runs:
            continue
        end = min(s[-1] for s, _ in runs)
        grid = np.linspace(0, end, 50)
        ys = np.stack([np.interp(grid, s, r) for s, r in runs])
        mean, std = ys.mean(0), ys.std(0)
        ax.plot(grid, mean, color=COLOURS.get(algo), label=f"{LABELS.get(algo, algo)} ({len(runs)} seeds)")
        ax.fill_between(grid, mean - std, mean + std, color=COLOURS.get(algo), alpha=0.18)
        n_curves += 1
    if floor is not None:
        ax.axhline(floor, color="grey", linestyle="--", label="random policy")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("test return per episode (held-out worlds)")
    ax.set_title(title)
    ax.legend()
    return save_figure(fig, path, curves=n_curves)


def replot(run: Run) -> list[Path]:
    """`ilya plot` hook: redraw the learning curve of a training run, or the figure of a compare run."""
    if "algos" in run.config:  # a comparison run
        from ilya.metarl.compare import draw_compare

        return [draw_compare(run)]
    p = learning_curve(run)
    return [p] if p else []
