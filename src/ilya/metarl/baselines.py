"""Reference learners without meta-learning: tabular Q-learning from scratch on each test world.

The paper draws a Q-learning line beside its meta-learners.  Ours gives Q-learning the same experience
as RL² at test time: a trial of ``n_episodes`` episodes in one world, the first ``n_explore`` of them
ε-greedy (learning), the rest greedy with continued updates, scored on the episodes after
``n_explore``, so the line shows what plain RL does with the data a meta-learner gets.  The Q-table is
keyed by the agent's cell (and whether it holds the key), starts at ``q_init``, one table per trial.  All trials run together in one vectorised env; the tables are Python
dicts (one per trial), so this is for evaluation, not training.
"""

from __future__ import annotations

import numpy as np

from ilya.metarl.envs import BanditVec, KrazyWorldVec, VecEnv
from ilya.metarl.sampling import EnvSpec, repeated_env


def _keys(env: VecEnv) -> list[bytes]:
    """The tabular state of each slot: its cell, and for Krazy World whether it holds the key."""
    state = np.concatenate([env.pos, env.has_key[:, None]], 1) if isinstance(env, KrazyWorldVec) else env.pos
    return [row.tobytes() for row in np.asarray(state, np.int64)]


def qlearning_returns(spec: EnvSpec, seeds: np.ndarray, trials: int, n_episodes: int, seed: int,
                      alpha: float = 0.5, gamma: float = 0.99, epsilon: float = 0.2, n_explore: int = 3,
                      q_init: float = 0.0) -> np.ndarray:
    """Episode returns (N worlds, trials, n_episodes) of tabular Q-learning, one fresh table per trial."""
    N, M, E, A = len(seeds), trials, n_episodes, spec.n_actions
    slots = np.repeat(np.asarray(seeds), M)  # world n's trials at n * M ...
    env = repeated_env(spec, slots)
    B = len(slots)
    rng = np.random.default_rng(seed)
    tables: list[dict[bytes, np.ndarray]] = [{} for _ in range(B)]
    out = np.zeros((B, E))

    def q(i: int, key: bytes) -> np.ndarray:
        row = tables[i].get(key)
        if row is None:
            row = tables[i][key] = np.full(A, q_init)
        return row

    for e in range(E):
        env.reset()
        keys = _keys(env)
        eps = epsilon if e < n_explore else 0.0
        for _ in range(spec.horizon):
            alive = ~env.done
            if not alive.any():
                break
            greedy = np.array([int(np.argmax(q(i, k) + 1e-9 * rng.random(A))) for i, k in enumerate(keys)])
            explore = rng.random(B) < eps
            a = np.where(explore, rng.integers(A, size=B), greedy)
            _, r, term, _ = env.step(a, rng.random(B)) if isinstance(env, BanditVec) else env.step(a)
            keys2 = _keys(env)
            for i in np.flatnonzero(alive).tolist():
                target = r[i] + (0.0 if term[i] else gamma * q(i, keys2[i]).max())
                row = q(i, keys[i])
                row[a[i]] += alpha * (target - row[a[i]])
            out[:, e] += r * alive
            keys = keys2
    return out.reshape(N, M, E)
