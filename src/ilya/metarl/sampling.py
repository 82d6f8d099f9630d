"""Rollouts of a meta-batch of tasks, in-process or spread over Ray workers.

The paper sampled with 40-128 parallel workers.  Here a rollout function takes a chunk of tasks and the
policy's weights (NumPy arrays) and returns fixed-shape arrays; `Sampler` runs it in this process
(``workers`` 0 or 1, the fast path for small jobs and tests) or splits the tasks over Ray workers
(local Ray by default, ``address`` joins a cluster).  Action noise is drawn per task from
``(seed, task index)``, so the result does not depend on how the tasks were split: a Ray run gives the
same trajectories as an in-process run.

MAML's episodes have fixed slots of ``horizon`` steps; after an episode ends its remaining steps have
``mask = 0`` (no env step happened) and reward 0.  An RL² trial packs its episodes back to back: the
step after an episode ends starts the next one (new-episode flag set, memory kept), so the only
padding (``mask = 0``) is at the end of the trial, after its last episode.

Bandit rewards are random: their uniforms are drawn per task from (seed, task index) as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ilya.metarl.config import EnvName
from ilya.metarl.envs import BanditConfig, BanditVec, EnvConfig, KrazyWorldVec, MazeVec, VecEnv, make_vec
from ilya.metarl.policy import log_softmax_np, mlp_logits_np, sample_from_logits

Seeds = Sequence[int] | np.ndarray
"""task seeds or task indices: a list or a 1-D integer array"""


@dataclass(frozen=True)
class EnvSpec:
    """Which task distribution, picklable (it travels to Ray workers)."""

    name: EnvName
    cfg: EnvConfig

    def make(self, task_seeds: Seeds) -> VecEnv:
        return make_vec(self.name, [int(s) for s in task_seeds], self.cfg)

    @property
    def obs_dim(self) -> int:
        shape = self.make([0]).obs_shape
        return int(np.prod(shape))

    @property
    def n_actions(self) -> int:
        if isinstance(self.cfg, BanditConfig):
            return int(self.cfg.arms)
        return int(KrazyWorldVec.n_actions if self.name == "krazy" else MazeVec.n_actions)

    @property
    def horizon(self) -> int:
        return int(self.cfg.horizon)


_ENV_CACHE: dict[tuple[EnvSpec, tuple[int, ...]], VecEnv] = {}


def _env(spec: EnvSpec, seeds: tuple[int, ...]) -> VecEnv:
    """Vectorised envs are cached per (spec, task list): drawing worlds costs more than resetting them."""
    key = (spec, seeds)
    if key not in _ENV_CACHE:
        if len(_ENV_CACHE) > 16:
            _ENV_CACHE.clear()
        _ENV_CACHE[key] = repeated_env(spec, seeds)
    return _ENV_CACHE[key]


def repeated_env(spec: EnvSpec, seeds: Seeds) -> VecEnv:
    """The vectorised env of ``seeds`` (which may repeat), each distinct world drawn once."""
    uniq = spec.make(sorted({int(s) for s in seeds}))
    by_seed = {t.seed: t for t in uniq.tasks}
    return type(uniq)([by_seed[int(s)] for s in seeds], uniq.cfg)  # type: ignore[arg-type]


def _flat(obs: np.ndarray) -> np.ndarray:
    """Policy input: vectors as they are, RGB images flattened and scaled to [0, 1]."""
    if obs.dtype == np.uint8:
        return obs.reshape(obs.shape[0], -1).astype(np.float32) / 255.0
    return obs.astype(np.float32, copy=False)


def task_uniforms(seed: int, task_index: Seeds, shape: tuple[int, ...], stream: int = 0x5EED) -> np.ndarray:
    """(N, *shape) uniforms, task i's drawn from (seed, task_index[i]) only."""
    return np.stack([np.random.default_rng([int(seed), int(i), stream]).random(shape) for i in task_index])


def _env_step(env: VecEnv, actions: np.ndarray, noise: np.ndarray | None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``env.step``; a bandit also takes the uniforms that decide its rewards."""
    if isinstance(env, BanditVec):
        return env.step(actions, noise)
    return env.step(actions)


def rollout_mlp(spec: EnvSpec, task_seeds: Seeds, task_index: Seeds,
                params: dict[str, np.ndarray], episodes: int, seed: int,
                positions: bool = False) -> dict[str, np.ndarray]:
    """K = ``episodes`` episodes in each of N tasks with an MLP policy (shared or per-task weights).

    Returns obs (N, K, T, D), actions / rewards / mask / logp (N, K, T), and with ``positions`` the
    agent's (row, col) before each step, pos (N, K, T, 2).
    """
    N, K, T = len(task_seeds), episodes, spec.horizon
    env = _env(spec, tuple(int(s) for s in task_seeds for _ in range(K)))  # slot n*K + k = task n
    u = task_uniforms(seed, task_index, (T, K))  # (N, T, K)
    noise = task_uniforms(seed, task_index, (T, K), stream=0xBA) if isinstance(env, BanditVec) else None
    obs = _flat(env.reset())
    D = obs.shape[-1]
    out = {"obs": np.zeros((N, K, T, D), np.float32), "actions": np.zeros((N, K, T), np.int64),
           "rewards": np.zeros((N, K, T), np.float32), "mask": np.zeros((N, K, T), np.float32),
           "logp": np.zeros((N, K, T), np.float32)}
    if positions:
        out["pos"] = np.zeros((N, K, T, 2), np.int64)
    for t in range(T):
        o = obs.reshape(N, K, D)
        if positions:
            out["pos"][:, :, t] = env.pos.reshape(N, K, 2)
        logits = mlp_logits_np(params, o)  # (N, K, A)
        a = sample_from_logits(logits, u[:, t])
        alive = ~env.done.reshape(N, K)
        out["obs"][:, :, t] = o
        out["actions"][:, :, t] = a
        out["mask"][:, :, t] = alive
        out["logp"][:, :, t] = np.take_along_axis(log_softmax_np(logits), a[..., None], -1)[..., 0]
        obs, r, _, _ = _env_step(env, a.reshape(-1), None if noise is None else noise[:, t].reshape(-1))
        obs = _flat(obs)
        out["rewards"][:, :, t] = r.reshape(N, K)
    return out


def rnn_inputs(obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, first: np.ndarray,
               n_actions: int) -> np.ndarray:
    """RL²'s per-step input (Duan et al. 2016, sec. 2.2): [o_t, a_{t-1} one-hot, r_{t-1}, new-episode flag].

    obs (N, L, D), actions/rewards/first (N, L) -> (N, L, D + A + 2).  The previous action and reward carry
    across episode boundaries inside a trial: that is how the policy learns about the world.
    """
    N, L, _ = obs.shape
    prev_a = np.zeros((N, L, n_actions), np.float32)
    prev_a[:, 1:] = np.eye(n_actions, dtype=np.float32)[actions[:, :-1]]
    prev_r = np.zeros((N, L, 1), np.float32)
    prev_r[:, 1:, 0] = rewards[:, :-1]
    return np.concatenate([obs, prev_a, prev_r, first[..., None].astype(np.float32)], -1)


def rollout_rnn(spec: EnvSpec, task_seeds: Seeds, task_index: Seeds,
                net_kwargs: dict[str, Any], state: dict[str, np.ndarray], episodes: int,
                seed: int, positions: bool = False) -> dict[str, np.ndarray]:
    """One RL² trial per task: ``episodes`` episodes in the same world, back to back, memory kept across them.

    Returns obs (N, L, D), actions / rewards / mask / first (N, L) and episode (N, L), the index of the
    episode each step belongs to (``episodes`` on the padding after the trial), with L = episodes *
    horizon, the longest a trial can be (and pos (N, L, 2)).
    """
    import torch

    from ilya.nn.recurrent import RecurrentActorCritic

    torch.set_num_threads(1)
    net = RecurrentActorCritic(**net_kwargs)
    net.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    N, T, A, E = len(task_seeds), spec.horizon, spec.n_actions, episodes
    L = E * T
    env = _env(spec, tuple(int(s) for s in task_seeds))
    u = task_uniforms(seed, task_index, (L,))  # (N, L)
    noise = task_uniforms(seed, task_index, (L,), stream=0xBA) if isinstance(env, BanditVec) else None
    obs = _flat(env.reset())
    D = obs.shape[-1]
    out = {"obs": np.zeros((N, L, D), np.float32), "actions": np.zeros((N, L), np.int64),
           "rewards": np.zeros((N, L), np.float32), "mask": np.zeros((N, L), np.float32),
           "first": np.zeros((N, L), np.float32), "episode": np.full((N, L), E, np.int64)}
    if positions:
        out["pos"] = np.zeros((N, L, 2), np.int64)
    h = net.initial_state(N)  # reset at the start of the trial, and only there
    prev_a = np.zeros((N, A), np.float32)
    prev_r = np.zeros((N, 1), np.float32)
    ep = np.zeros(N, np.int64)  # the episode each slot is in
    first = np.ones(N, bool)
    for t in range(L):
        active = ep < E
        if not active.any():
            break
        x = np.concatenate([obs, prev_a, prev_r, first[:, None].astype(np.float32)], 1)
        logits, _, h = net.step(torch.from_numpy(x), h)
        a = sample_from_logits(logits.numpy(), u[:, t])
        out["obs"][:, t] = obs * active[:, None]  # padding (after a trial's last episode) is all zeros,
        if positions:                             # whether or not other trials of the batch still run
            out["pos"][:, t] = env.pos * active[:, None]
        out["actions"][:, t] = a * active
        out["mask"][:, t] = active
        out["first"][:, t] = first & active
        out["episode"][:, t] = np.where(active, ep, E)
        obs, r, _, _ = _env_step(env, a, None if noise is None else noise[:, t])
        out["rewards"][:, t] = r * active
        prev_a = np.eye(A, dtype=np.float32)[a]
        prev_r = r[:, None].astype(np.float32)
        ended = active & env.done
        ep = ep + ended
        first = ended & (ep < E)
        obs = _flat(env.reset(first) if first.any() else obs)  # the next episode starts at once, same world
    return out


def rollout_random(spec: EnvSpec, task_seeds: Seeds, episodes: int, seed: int) -> np.ndarray:
    """Per-task episode returns (N, episodes) of the uniform random policy: the floor every method must beat."""
    N, K = len(task_seeds), episodes
    env = repeated_env(spec, [s for s in task_seeds for _ in range(K)])
    env.reset()
    rng = np.random.default_rng(seed)
    ret = np.zeros(N * K)
    for _ in range(spec.horizon):
        _, r, _, _ = _env_step(env, rng.integers(spec.n_actions, size=N * K), rng.random(N * K))
        ret += r
    return ret.reshape(N, K)


class Sampler:
    """Runs rollouts for a list of tasks in-process (``workers`` <= 1) or on Ray workers."""

    def __init__(self, spec: EnvSpec, workers: int = 0, address: str | None = None) -> None:
        self.spec, self.workers, self.address = spec, workers, address
        self._ray = None
        if workers > 1 or address:
            import ray

            if not ray.is_initialized():
                kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "ignore_reinit_error": True, "configure_logging": False}
                if address:
                    ray.init(address=address, **kw)
                else:
                    ray.init(num_cpus=workers, **kw)
            self._ray = ray
            self._mlp = ray.remote(num_cpus=1)(rollout_mlp)
            self._rnn = ray.remote(num_cpus=1)(rollout_rnn)
            self.workers = max(workers, 2)

    def _chunks(self, n: int) -> list[np.ndarray]:
        return [c for c in np.array_split(np.arange(n), self.workers) if len(c)]

    def mlp(self, params: dict[str, np.ndarray], task_seeds: Seeds, episodes: int,
            seed: int) -> dict[str, np.ndarray]:
        """``rollout_mlp`` over all tasks; per-task weights (leading axis N) are split with the tasks."""
        seeds = np.asarray(task_seeds)
        if self._ray is None:
            return rollout_mlp(self.spec, seeds, np.arange(len(seeds)), params, episodes, seed)
        refs = []
        for idx in self._chunks(len(seeds)):
            p = {k: (v[idx] if v.ndim == 3 or (v.ndim == 2 and k.startswith("b")) else v)
                 for k, v in params.items()}
            refs.append(self._mlp.remote(self.spec, seeds[idx], idx, p, episodes, seed))
        return _concat(self._ray.get(refs))

    def rnn(self, net_kwargs: dict[str, Any], state: dict[str, np.ndarray], task_seeds: Seeds,
            episodes: int, seed: int) -> dict[str, np.ndarray]:
        seeds = np.asarray(task_seeds)
        if self._ray is None:
            return rollout_rnn(self.spec, seeds, np.arange(len(seeds)), net_kwargs, state, episodes, seed)
        state_ref = self._ray.put(state)
        refs = [self._rnn.remote(self.spec, seeds[idx], idx, net_kwargs, state_ref, episodes, seed)
                for idx in self._chunks(len(seeds))]
        return _concat(self._ray.get(refs))


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
