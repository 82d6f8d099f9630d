"""`ilya metarl train | eval | compare | world`, the `ilya demo` step and the `ilya plot` hook."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ilya.core.errors import IlyaError
from ilya.metarl.config import CompareConfig, EvalConfig, TrainConfig, WorldConfig


def train_command(cfg: TrainConfig) -> dict[str, Any]:
    from ilya.metarl.train import train

    result = train(cfg)
    print(f"test return {result['test_return']:+.3f} ± {result['test_return_se']:.3f} on {result['test_worlds']} "
          f"held-out worlds (random policy {result['random_return']:+.3f}); figures in {result['run']}/plots",
          file=sys.stderr)
    return result


def eval_command(cfg: EvalConfig) -> dict[str, Any]:
    import numpy as np

    from ilya.core.runs import Run
    from ilya.metarl.compare import as_train_config
    from ilya.metarl.train import make_learner, mean_se, random_floor, world_seeds

    run = Run.load(cfg.run, cfg.runs_dir, system="metarl")
    if "algo" not in run.config:
        raise IlyaError(f"run {run.system}/{run.name} is not a metarl training run", file=run.path / "config.json")
    tcfg = as_train_config(run.config)
    if cfg.test_worlds is not None:
        tcfg.test_worlds = cfg.test_worlds
    state = run.load_checkpoint()
    if state is None:
        raise IlyaError(f"run {run.name} has no checkpoint yet", file=run.checkpoints_dir)
    learner = make_learner(tcfg)
    learner.load_state_dict(state["learner"])
    _, test_seeds = world_seeds(tcfg)
    test = learner.evaluate(test_seeds, seed=10_000 + cfg.seed)
    m, se = mean_se(test["score"])
    fm, fse = mean_se(random_floor(tcfg, test_seeds))
    out = {"run": run.name, "algo": tcfg.algo, "env": tcfg.env, "env_steps": int(state["env_steps"]),
           "test_worlds": len(test_seeds), "test_return": m, "test_return_se": se,
           "test_before": float(np.mean(test["before"])), "random_return": fm, "random_return_se": fse}
    if not cfg.json:
        print(f"{tcfg.algo} on {tcfg.env}: test return {m:+.3f} ± {se:.3f} over {len(test_seeds)} held-out worlds "
              f"(before adapting / exploring: {out['test_before']:+.3f}; random policy {fm:+.3f} ± {fse:.3f})")
    return out


def compare_command(cfg: CompareConfig) -> dict[str, Any]:
    from ilya.metarl.compare import compare, format_table

    result = compare(cfg)
    if not cfg.json:
        print(format_table(result))
        print(f"figure: {result['figure']}")
    return result


def world_command(cfg: WorldConfig) -> None:
    from ilya.core.plotting import new_figure, save_figure
    from ilya.metarl.envs import make_vec
    from ilya.metarl.envs.krazy import TILE_NAMES

    env = make_vec(cfg.env, cfg.task_seeds, cfg.krazy if cfg.env == "krazy" else cfg.maze)
    env.reset()
    fig, axes = new_figure(1, len(cfg.task_seeds), figsize=(4 * len(cfg.task_seeds), 4), squeeze=False)
    for i, (ax, seed) in enumerate(zip(axes[0], cfg.task_seeds, strict=True)):
        ax.imshow(env.render(i))
        ax.set_title(f"{cfg.env} world {seed}")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        if cfg.env == "krazy":
            chars = ".G~X#LKTE"
            print(f"world {seed} (action map {env.action_perm[i].tolist()}, agent at {env.start[i].tolist()}):")
            for row in env.board0[i]:
                print("  " + " ".join(chars[t] for t in row))
        else:
            print(f"maze {seed}: start {env.start[i].tolist()}, goal {env.goal[i].tolist()}")
            for row in env.grid[i]:
                print("  " + "".join("#" if w else " " for w in row))
    if cfg.env == "krazy":
        print("legend: " + ", ".join(f"{c}={n}" for c, n in zip(".G~X#LKTE", TILE_NAMES, strict=True)))
    print(save_figure(fig, cfg.out, curves=0))


COMMANDS = {
    "train": (TrainConfig, train_command),
    "eval": (EvalConfig, eval_command),
    "compare": (CompareConfig, compare_command),
    "world": (WorldConfig, world_command),
}


def replot(run: Any) -> list[Path]:
    from ilya.metarl.plots import replot as _replot

    return _replot(run)


def demo(runs_dir: Path) -> None:
    """A small comparison of all four algorithms on Krazy World (one seed, a short budget), with figures."""
    from ilya.metarl.compare import compare, format_table

    cfg = CompareConfig(env="krazy", seeds=[0], env_steps=25_000, eval_every=1, test_worlds=32,
                        run="demo-compare-krazy", runs_dir=Path(runs_dir))
    print("Meta-training MAML, E-MAML, RL² and E-RL² on Krazy World for 25k environment steps each "
          "(far below the paper's budget: this shows the pipeline, not final numbers) ...", flush=True)
    result = compare(cfg)
    print(format_table(result))
    print(f"return vs environment steps: {result['figure']}")
    print(f"a test world with pre/post-update visit heat maps: "
          f"{Path(runs_dir) / 'metarl' / (result['runs'][1]) / 'plots' / 'exploration.png'}")
