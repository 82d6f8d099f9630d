"""Batched episodes of the one-shot policy: every episode of a task in lock-step, one forward pass a step.

`rollout_task` (a batch of episodes, of one or several tasks) is the unit of parallel work (a Ray job in `ilya.imitation.evaluate`): it rebuilds the
policy from its weights, conditions each episode on a demonstration (the whole one, subsampled as at test
time, or its final state only; an ensemble averages the outputs over several demonstrations) and returns
per episode whether it succeeded and how many stages it completed.  With ``beta`` > 0 it executes the
expert's action with that probability, and with ``label`` it records the visited states with the
expert's action in each (DAgger's aggregation).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ilya.imitation.config import ModelConfig
from ilya.imitation.env import BlockStackEnv
from ilya.imitation.expert import expert_action
from ilya.imitation.policy import OneShotPolicy, dropout_indices, pack_demos, to_action


def condition(obs: np.ndarray, length: int, conditioning: str, p: float) -> np.ndarray:
    """The observations a policy sees of one demonstration (``obs``: (T+1, D), ``length`` actions)."""
    if conditioning == "final":
        return obs[length: length + 1]
    return obs[dropout_indices(length, p, None)]


def model_from_state(state: dict[str, Any], model_cfg: dict[str, Any]) -> OneShotPolicy:
    cfg = ModelConfig(**model_cfg)
    model = OneShotPolicy(cfg)
    model.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in state.items()})
    model.eval()
    return model


@torch.no_grad()
def run_episodes(model: OneShotPolicy, layouts: list[str], max_blocks: int, physics: str, seeds: list[int],
                 demos: list[list[np.ndarray]], beta: float = 0.0, label: bool = False,
                 rng_seed: int = 0) -> dict[str, Any]:
    """One episode per (layout, seed); ``demos[k]``: the conditioning observation arrays of episode k
    (an ensemble when several)."""
    envs = [BlockStackEnv(lay, n_blocks=max_blocks, max_blocks=max_blocks, physics=physics)  # type: ignore[arg-type]
            for lay in layouts]
    obs = np.stack([env.reset(seed=s)[0] for env, s in zip(envs, seeds, strict=True)])
    flat = [d for ds in demos for d in ds]
    owner = np.repeat(np.arange(len(seeds)), [len(ds) for ds in demos])
    demo_t, mask = pack_demos(flat)
    emb = model.encode_demo(demo_t, mask)
    active = np.ones(len(seeds), bool)
    success = np.zeros(len(seeds), bool)
    stages = np.zeros(len(seeds), np.int64)
    rng = np.random.default_rng(rng_seed)
    rec_obs: list[np.ndarray] = []
    rec_act: list[np.ndarray] = []
    rec_ep: list[int] = []
    while active.any():
        x = torch.from_numpy(obs[owner].astype(np.float32))
        out = model.act_from(emb, mask, x)
        sums = torch.zeros(len(seeds), 4).index_add_(0, torch.from_numpy(owner), out)
        counts = torch.from_numpy(np.bincount(owner, minlength=len(seeds)).astype(np.float32))
        acts = to_action(sums / counts[:, None])
        for k in np.flatnonzero(active):
            env = envs[k]
            a = acts[k]
            if label or beta > 0:
                e = expert_action(env)
                if label:
                    rec_obs.append(obs[k].astype(np.float32))
                    rec_act.append(e)
                    rec_ep.append(int(k))
                if beta > 0 and rng.random() < beta:
                    a = e
            o, _, term, trunc, info = env.step(a)
            obs[k] = o
            if term or trunc:
                active[k] = False
                success[k] = bool(info["success"])
                stages[k] = int(info["stages_done"])
    for env in envs:
        env.close()
    out_d: dict[str, Any] = {"success": success, "stages": stages}
    if label:
        out_d["obs"] = np.asarray(rec_obs, np.float32).reshape(-1, obs.shape[1])
        out_d["actions"] = np.asarray(rec_act, np.float32).reshape(-1, 4)
        out_d["episode"] = np.asarray(rec_ep, np.int64)
    return out_d


def rollout_task(state: dict[str, Any], model_cfg: dict[str, Any], layouts: list[str], max_blocks: int, physics: str,
                 seeds: list[int], demos: list[list[np.ndarray]], beta: float = 0.0, label: bool = False,
                 rng_seed: int = 0, threads: int = 1) -> dict[str, Any]:
    """`run_episodes` from the policy's weights (what a Ray worker runs)."""
    old = torch.get_num_threads()
    torch.set_num_threads(max(1, threads))
    try:
        model = model_from_state(state, model_cfg)
        return run_episodes(model, layouts, max_blocks, physics, seeds, demos, beta, label, rng_seed)
    finally:
        torch.set_num_threads(old)


def rollouts(state: dict[str, Any], model_cfg: dict[str, Any], max_blocks: int, physics: str,
             layouts: list[str], seeds: list[int], demos: list[list[np.ndarray]], *, beta: float = 0.0,
             label: bool = False, rng_seed: int = 0, workers: int = 0, address: str | None = None,
             desc: str = "rollouts") -> dict[str, Any]:
    """Every episode, in lock-step batches (a few in this process, or one job per Ray worker and more).

    Returns per episode ``success`` and ``stages``; with ``label`` also the visited states, the expert's
    actions and the episode each state belongs to.
    """
    from ilya.imitation.parallel import run_jobs

    n = len(layouts)
    chunks = max(1, min(n, 4 if workers <= 1 and not address else 3 * max(workers, 2)))
    parts = [c for c in np.array_split(np.arange(n), chunks) if len(c)]
    jobs = [(state, model_cfg, [layouts[i] for i in c], max_blocks, physics, [seeds[i] for i in c],
             [demos[i] for i in c], beta, label, rng_seed + 7919 * k) for k, c in enumerate(parts)]
    results = run_jobs(rollout_task, jobs, workers=workers, address=address, desc=desc)
    out: dict[str, Any] = {"success": np.concatenate([r["success"] for r in results]),
                           "stages": np.concatenate([r["stages"] for r in results])}
    if label:
        out["obs"] = np.concatenate([r["obs"] for r in results])
        out["actions"] = np.concatenate([r["actions"] for r in results])
        out["episode"] = np.concatenate([c[r["episode"]] for c, r in zip(parts, results, strict=True)])
    return out
