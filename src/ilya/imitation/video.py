"""Rollout videos with MuJoCo's offscreen renderer (MUJOCO_GL=egl by default; osmesa works too)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ilya.core.errors import IlyaError
from ilya.core.runs import Run
from ilya.imitation.config import VideoConfig
from ilya.imitation.env import BlockStackEnv  # sets MUJOCO_GL=egl before MuJoCo is imported
from ilya.imitation.expert import expert_action
from ilya.imitation.tasks import parse_layout


def record(env: BlockStackEnv, act: object, seed: int, every: int = 2) -> tuple[list[np.ndarray], dict]:
    """Frames of one episode; ``act(env, obs) -> action``."""
    obs, info = env.reset(seed=seed)
    frames = [env.render()]
    t = 0
    done = False
    while not done:
        obs, _, term, trunc, info = env.step(act(env, obs))  # type: ignore[operator]
        done = term or trunc
        t += 1
        if t % every == 0 or done:
            frames.append(env.render())
    return [f for f in frames if f is not None], info


def write_video(frames: list[np.ndarray], out: Path, fps: int = 12) -> Path:
    import imageio.v2 as imageio

    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".gif":
        imageio.mimsave(out, frames, duration=1.0 / fps, loop=0)  # type: ignore[arg-type]
    else:
        imageio.mimsave(out, frames, fps=fps)  # type: ignore[arg-type]
    return out


def policy_actor(run_ref: str, runs_dir: Path, layout: str, demo_seed: int) -> object:
    """An ``act(env, obs)`` for a trained run, conditioned on an expert demonstration of ``layout``."""
    import torch

    from ilya.imitation.evaluate import load_policy
    from ilya.imitation.expert import run_expert
    from ilya.imitation.policy import pack_demos, to_action
    from ilya.imitation.rollout import condition

    model, cfg, data = load_policy(Run.load(run_ref, runs_dir, system="imitation"))
    demo_env = BlockStackEnv(layout, n_blocks=data.max_blocks, max_blocks=data.max_blocks, physics=cfg.physics)
    _, _, obs, acts = run_expert(demo_env, seed=demo_seed)
    d, mask = pack_demos([condition(obs.astype(np.float32), len(acts), cfg.conditioning, cfg.model.temporal_dropout)])
    with torch.no_grad():
        emb = model.encode_demo(d, mask)

    def act(env: BlockStackEnv, o: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = model.act_from(emb, mask, torch.from_numpy(o[None].astype(np.float32)))
        return to_action(out)[0]

    return act


def video(cfg: VideoConfig) -> dict[str, object]:
    """`ilya imitation video`: one episode of the expert (or of a run's policy) as a GIF/MP4."""
    task = parse_layout(cfg.layout, cfg.blocks)
    if cfg.out.suffix not in (".gif", ".mp4"):
        raise IlyaError(f"--out {cfg.out}: expected a .gif or .mp4 file")
    max_blocks = cfg.blocks
    act: object = lambda env, o: expert_action(env)  # noqa: E731
    if cfg.run is not None:
        from ilya.imitation.evaluate import load_policy

        _, _, data = load_policy(Run.load(cfg.run, cfg.runs_dir, system="imitation"))
        max_blocks = data.max_blocks
        act = policy_actor(cfg.run, cfg.runs_dir, task.layout, cfg.seed + 12345)
    env = BlockStackEnv(task.layout, n_blocks=max(task.n_blocks, cfg.blocks if cfg.run is None else max_blocks),
                        max_blocks=max(max_blocks, task.n_blocks), physics=cfg.physics, render_mode="rgb_array",
                        width=cfg.width, height=cfg.height)
    frames, info = record(env, act, cfg.seed, cfg.every)
    env.close()
    path = write_video(frames, cfg.out)
    print(f"{'policy of ' + cfg.run if cfg.run else 'expert'} on {task.layout!r} ({cfg.physics}): "
          f"{info['stages_done']}/{info['n_stages']} stages, {'success' if info['success'] else 'failure'}; "
          f"{len(frames)} frames -> {path}")
    return {"out": str(path), "frames": len(frames), **info}
