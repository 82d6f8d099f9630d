"""Demonstrations/s and environment steps/s of ilya/BlockStack-v0 in both physics modes, against the plain
MuJoCo step rate of the same scene, all per CPU-second of this process (time.process_time, so that a
shared machine does not skew the ratio) (the physical limit: one env step runs SUBSTEPS MuJoCo steps).

    .venv/bin/python benchmarks/imitation_env_speed.py [--demos 20] [--blocks 6]

Prints, per physics mode and layout: the scripted expert's demonstrations/s and env steps/s; the raw
``mj_step`` rate of the same MJCF scene and its env-step equivalent (mj_step rate / SUBSTEPS); the ratio.
"""

from __future__ import annotations

import argparse
import json
import time

import mujoco

from ilya.imitation.env import SUBSTEPS, BlockStackEnv
from ilya.imitation.expert import run_expert
from ilya.imitation.scene import scene_xml


def mj_rate(n_blocks: int, physics: str, seconds: float = 2.0) -> float:
    """Raw mj_step calls per second of the scene (blocks resting on the table, fingers open)."""
    env = BlockStackEnv("ab", n_blocks=n_blocks, max_blocks=n_blocks, physics=physics)  # type: ignore[arg-type]
    env.reset(seed=0)
    model, data = env.model, env.data
    assert model.nbody == mujoco.MjModel.from_xml_string(scene_xml(n_blocks, physics)).nbody
    n, t0 = 0, time.process_time()
    while time.process_time() - t0 < seconds:
        for _ in range(200):
            mujoco.mj_step(model, data)
        n += 200
    return n / (time.process_time() - t0)


def expert_rate(layout: str, n_blocks: int, physics: str, demos: int) -> tuple[float, float, float]:
    env = BlockStackEnv(layout, n_blocks=n_blocks, max_blocks=n_blocks, physics=physics)  # type: ignore[arg-type]
    steps, wins = 0, 0
    t0 = time.process_time()
    for s in range(demos):
        ok, _, _, act = run_expert(env, seed=s, record=False)
        wins += int(ok)
        steps += env.t
    dt = time.process_time() - t0
    return demos / dt, steps / dt, wins / demos


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--demos", type=int, default=20)
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    for physics in ("hybrid", "full"):
        limit_mj = mj_rate(args.blocks, physics)
        limit_env = limit_mj / SUBSTEPS[physics]
        for layout in ("ab", "abc de", "abcdef"):
            n = args.demos if physics == "hybrid" else max(3, args.demos // 4)
            dps, sps, succ = expert_rate(layout, args.blocks, physics, n)
            rows.append({"physics": physics, "layout": layout, "demos": n, "demos_per_s": dps,
                         "env_steps_per_s": sps, "expert_success": succ, "mj_steps_per_s": limit_mj,
                         "limit_env_steps_per_s": limit_env, "ratio": sps / limit_env})
    if args.json:
        print(json.dumps(rows))
        return
    print(f"{'physics':7} {'layout':8} {'demos/s':>8} {'env steps/s':>12} {'expert':>7} "
          f"{'mj_step/s':>10} {'limit env/s':>12} {'ours/limit':>10}")
    for r in rows:
        print(f"{r['physics']:7} {r['layout']:8} {r['demos_per_s']:8.1f} {r['env_steps_per_s']:12.0f} "
              f"{100 * r['expert_success']:6.0f}% {r['mj_steps_per_s']:10.0f} {r['limit_env_steps_per_s']:12.0f} "
              f"{r['ratio']:10.2f}")


if __name__ == "__main__":
    main()
