"""The paper's figures: return vs environment steps per algorithm, and where the agent goes in a world.

* ``learning_curve.png`` (one run): held-out test return vs env steps, ± standard error, random floor.
* ``exploration.png`` (one run): a test world, and heat maps of the cells visited by the pre-update and
  post-update policies (MAML) or in the exploratory and the scored episodes (RL²).
* ``compare_return.png`` (`ilya metarl compare`): one curve per algorithm, mean over seeds with a shaded
  ± one standard error band, the random policy's return as a dashed line (as in the paper's figures).
* ``worlds.png`` (`ilya metarl world`): worlds of a task distribution.

All are registered with `ilya.core.figures` (run figures, the paper figure, the headline rows), so
training and `ilya plot` / `ilya report` draw them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ilya.core.figures import HeadlineRow, headline, paper_figure, run_figure
from ilya.core.plotting import new_figure, save_figure
from ilya.core.runs import Run
from ilya.metarl.compare import is_compare_run, seed_band
from ilya.metarl.config import ALGOS, LABELS, TILE_NAMES, TrainConfig, WorldConfig
from ilya.metarl.envs import BanditVec, KrazyWorldVec, MazeVec, make_vec
from ilya.metarl.envs.krazy import AGENT_COLOUR, BASE_PALETTE
from ilya.metarl.rl2 import episode_returns
from ilya.metarl.sampling import rollout_mlp, rollout_rnn
from ilya.metarl.train import Learner, MamlLearner, make_learner

COLOURS = {"maml": "#1f77b4", "emaml": "#d62728", "rl2": "#2ca02c", "erl2": "#ff7f0e"}
# Krazy World reference returns the paper draws as lines (Stadie et al. 2018)
PAPER_KRAZY = "curves only; reference lines random ≈ 0.05, Q-learning ≈ 1.2, human ≈ 2.7"


def learning_curve(run: Run) -> Path | None:
    steps, ret = run.series("test/return")
    if not steps:
        return None
    _, se = run.series("test/return_se")
    _, floor = run.series("test/random")
    fig, ax = new_figure()
    algo = run.config.get("algo", "")
    ax.plot(steps, ret, color=COLOURS.get(algo), label=LABELS.get(algo, algo))
    if len(se) == len(ret) - 1:  # runs from before every evaluation logged its standard error
        se = [0.0, *se]
    if len(se) == len(ret):
        lo, hi = np.array(ret) - np.array(se), np.array(ret) + np.array(se)
        ax.fill_between(steps, lo, hi, color=COLOURS.get(algo), alpha=0.2)
    if floor:
        ax.axhline(float(np.mean(floor)), color="grey", linestyle="--", label="random policy")
    thompson = run.read_summary().get("thompson_return")
    if thompson is not None:
        ax.axhline(float(thompson), color="black", linestyle=":", label="Thompson sampling")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("test return per episode (held-out worlds, ± s.e.)")
    ax.set_title(f"{run.config.get('env', '')}: {LABELS.get(algo, algo)} (seed {run.config.get('seed')})")
    ax.legend()
    return save_figure(fig, run.plots_dir / "learning_curve.png")


def visit_counts(pos: np.ndarray, mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Histogram of visited cells: pos (..., 2) with mask (...) -> (H, W) counts."""
    p = pos.reshape(-1, 2)[mask.reshape(-1) > 0]
    counts = np.zeros(shape)
    np.add.at(counts, (p[:, 0], p[:, 1]), 1.0)
    return counts


def exploration_figure(learner: Learner, task_seed: int, path: Path, episodes: int = 16) -> Path:
    """World picture plus the heat maps of where the agent went before and after adapting to it."""
    spec, cfg = learner.spec, learner.cfg
    env = spec.make([task_seed])
    env.reset()
    if isinstance(env, BanditVec):
        raise ValueError("a bandit has no cells to visit")
    if isinstance(env, KrazyWorldVec):
        world = env.render(0, true_colours=True)
        shape: tuple[int, int] = (int(env.board0.shape[1]), int(env.board0.shape[2]))
    else:
        world = env.render(0)
        shape = (int(env.grid.shape[1]), int(env.grid.shape[2]))
    if isinstance(learner, MamlLearner):
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
        explore = b["episode"] < cfg.n_explore
        heat = [visit_counts(b["pos"], b["mask"] * explore, shape), visit_counts(b["pos"], b["mask"] * ~explore, shape)]
        ep = episode_returns(b["rewards"], b["episode"], cfg.n_episodes)
        rets = [ep[:, : cfg.n_explore].mean(), ep[:, cfg.n_explore:].mean()]
        titles = [f"exploratory episodes 1-{cfg.n_explore}", f"scored episodes {cfg.n_explore + 1}-{cfg.n_episodes}"]
    fig, axes = new_figure(1, 3, figsize=(12, 4))
    axes[0].imshow(world)
    axes[0].set_title(f"{spec.name} world {task_seed}")
    if spec.name == "krazy":
        from matplotlib.patches import Patch

        def rgb(c: np.ndarray) -> tuple[float, float, float]:
            return (float(c[0]) / 255, float(c[1]) / 255, float(c[2]) / 255)

        handles = [Patch(color=rgb(c), label=n) for c, n in zip(BASE_PALETTE, TILE_NAMES, strict=True)]
        handles.append(Patch(color=rgb(AGENT_COLOUR), label="agent (start)"))
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


def compare_figure(curves: Mapping[str, Sequence[tuple[Sequence[float], Sequence[float]]]],
                   floor: float | None, path: Path, title: str, qlearning: float | None = None,
                   lines: Mapping[str, float] | None = None) -> Path:
    """Mean ± standard error over seeds of each algorithm's (env steps, test return) curves, on a common step
    grid (the band is the s.e. over seeds; with one seed there is no band)."""
    fig, ax = new_figure(figsize=(7, 4.5))
    n_curves = 0
    for algo, runs in curves.items():
        runs = [(s, r) for s, r in runs if len(s)]
        if not runs:
            continue
        grid, mean, se = seed_band(runs)
        ax.plot(grid, mean, color=COLOURS.get(algo), label=f"{LABELS.get(algo, algo)} ({len(runs)} seeds)")
        ax.fill_between(grid, mean - se, mean + se, color=COLOURS.get(algo), alpha=0.18)
        n_curves += 1
    if floor is not None:
        ax.axhline(floor, color="grey", linestyle="--", label="random policy")
    if qlearning is not None:
        ax.axhline(qlearning, color="black", linestyle=":", label="Q-learning from scratch (RL²'s trial)")
    for label, y in (lines or {}).items():
        ax.axhline(y, color="black", linestyle=":", label=label)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("test return per episode (held-out worlds)")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)  # outside: never over a curve
    return save_figure(fig, path, curves=n_curves)


def world_figure(cfg: WorldConfig) -> Path:
    """``ilya metarl world``: the worlds of ``cfg.task_seeds`` side by side; their boards printed as text."""
    env = make_vec(cfg.env, cfg.task_seeds, {"krazy": cfg.krazy, "maze": cfg.maze, "bandit": cfg.bandit}[cfg.env])
    env.reset()
    fig, axes = new_figure(1, len(cfg.task_seeds), figsize=(4 * len(cfg.task_seeds), 4), squeeze=False)
    chars = ".G~X#LKTE"
    for i, (ax, seed) in enumerate(zip(axes[0], cfg.task_seeds, strict=True)):
        ax.imshow(env.render(i))
        ax.set_title(f"{cfg.env} world {seed}")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        if isinstance(env, BanditVec):
            print(f"bandit {seed}: arm probabilities {np.round(env.p[i], 3).tolist()}")
        elif isinstance(env, KrazyWorldVec):
            print(f"world {seed} (action map {env.action_perm[i].tolist()}, agent at {env.start[i].tolist()}):")
            for row in env.board0[i]:
                print("  " + " ".join(chars[t] for t in row))
        elif isinstance(env, MazeVec):
            print(f"maze {seed}: start {env.start[i].tolist()}, goal {env.goal[i].tolist()}")
            for row in env.grid[i]:
                print("  " + "".join("#" if w else " " for w in row))
    if isinstance(env, KrazyWorldVec):
        print("legend: " + ", ".join(f"{c}={n}" for c, n in zip(chars, TILE_NAMES, strict=True)))
    return save_figure(fig, cfg.out, curves=0)


def world_command(cfg: WorldConfig) -> None:
    print(world_figure(cfg))


def compare_curves(run: Run) -> dict[str, list[tuple[list[int], list[float]]]]:
    """Per algorithm, the (env steps, test return) curves of the training runs a compare run names."""
    algos = [str(a) for a in run.config.get("algos", ALGOS)]
    curves: dict[str, list[tuple[list[int], list[float]]]] = {a: [] for a in algos}
    for child in run.read_summary().get("runs", []):
        r = Run.load(run.path.parent / child)
        algo = r.config.get("algo")
        if algo in curves:
            curves[algo].append(r.series("test/return"))
    return curves


# ----------------------------------------------------------------------------- registered figures
@run_figure("metarl", "learning_curve")
def run_learning_curve(run: Run) -> list[Path]:
    """A training run's test return vs env steps (compare runs: none)."""
    if is_compare_run(run):
        return []
    p = learning_curve(run)
    return [p] if p else []


@run_figure("metarl", "exploration")
def run_exploration(run: Run) -> list[Path]:
    """A training run's first test world with pre/post-update visit heat maps, from its latest checkpoint."""
    if is_compare_run(run) or run.config.get("env") == "bandit":
        return []
    state = run.load_checkpoint()
    if state is None:
        return []
    cfg = run.config_as(TrainConfig)
    learner = make_learner(cfg)
    learner.load_state_dict(state["learner"])
    test_seed = cfg.world_seed * 1_000_000 + 500_000
    return [exploration_figure(learner, test_seed, run.plots_dir / "exploration.png")]


@run_figure("metarl", "compare_return")
def run_compare_return(run: Run) -> list[Path]:
    """A compare run's figure: test return vs env steps, one curve per algorithm over seeds."""
    if not is_compare_run(run):
        return []
    summary = run.read_summary()
    env = run.config.get("env", "")
    steps = run.config.get("env_steps")
    title = f"{env}: test return vs env steps ({len(run.config.get('seeds', []))} seeds, {steps} steps per run)"
    return [compare_figure(compare_curves(run), summary.get("random_return"),
                           run.plots_dir / "compare_return.png", title, summary.get("qlearning_return"))]


@paper_figure("metarl", "compare_return", title="Test return vs environment steps (Stadie et al. 2018, Figs. 5-6)")
def paper_compare(runs: list[Run], out: Path) -> list[Path]:
    """The latest finished comparison of each task distribution, redrawn into ``out``."""
    latest: dict[str, Run] = {}
    for r in runs:
        if is_compare_run(r) and r.read_summary().get("algos"):
            latest[str(r.config.get("env", ""))] = r
    paths = []
    for env, r in sorted(latest.items()):
        s = r.read_summary()
        paths.append(compare_figure(compare_curves(r), s.get("random_return"), out / f"metarl_compare_{env}.png",
                                    f"{env}: test return vs env steps ({r.name})", s.get("qlearning_return")))
    return paths


@headline("metarl")
def headline_rows(runs: list[Run]) -> list[HeadlineRow]:
    """Per comparison run and algorithm: mean test return over seeds on the held-out worlds."""
    rows: list[HeadlineRow] = []
    for r in runs:
        s = r.read_summary()
        if not is_compare_run(r) or not s.get("algos"):
            continue
        env = str(r.config.get("env", ""))
        for algo, row in s["algos"].items():
            st = row["test_return"]
            rows.append(HeadlineRow(
                claim=f"{LABELS.get(algo, algo)} test return per episode, {env} (held-out worlds)",
                paper=PAPER_KRAZY if env == "krazy" else "curves only",
                ours=f"{st['mean']:+.3f} ± {st['se']:.3f} s.e. over seeds (random {s['random_return']:+.3f})",
                protocol=f"{s.get('test_worlds')} test worlds, seeds {row['seeds']}",
                budget=f"{row['env_steps']} env steps per run",
                run=f"metarl/{r.name}",
                command=f"ilya metarl compare --env {env} --env-steps {r.config.get('env_steps')} --run {r.name}"))
    return rows
