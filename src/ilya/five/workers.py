"""Ray rollout workers and one learner (Berner et al. 2019, Figure 2, at the scale of one machine).

Each worker is a Ray actor holding a `RolloutWorker` (its own games, memory and generator).  The learner
keeps one request in flight per worker: when a chunk comes back it is handed to the optimiser and the
worker is at once sent the newest weights for its next chunk, so rollouts and optimisation overlap and
the data is a version or more behind the learner (its *staleness*, measured on every chunk; chunks more
than ``max_staleness`` versions old are dropped).  A local Ray is started by default; ``address`` joins
a cluster.  A worker that dies is replaced by a new one (with a new seed) and the learner goes on.
Past versions of the opponent pool travel to a worker once: each worker is sent only those it lacks.
"""

from __future__ import annotations

from typing import Any

from ilya.five.config import TrainConfig
from ilya.five.rewards import run_weights
from ilya.five.rollout import RolloutWorker, Weights
from ilya.five.selfplay import OpponentPool


class RayRollouts:
    def __init__(self, cfg: TrainConfig) -> None:
        import ray

        self.ray = ray
        self.cfg = cfg
        if not ray.is_initialized():
            if cfg.address:
                ray.init(address=cfg.address, log_to_driver=False)
            else:
                ray.init(num_cpus=max(cfg.workers, 1), include_dashboard=False, log_to_driver=False)
        self.actor_cls = ray.remote(num_cpus=1)(RolloutWorker)
        self.restarts = 0
        self.dropped = 0
        self.actors: list[Any] = [self._spawn(i) for i in range(cfg.workers)]
        self.known: list[set[int]] = [set() for _ in self.actors]
        self.pending: dict[Any, int] = {}
        self.cpu_s = 0.0  # CPU seconds of every chunk the workers returned (dropped ones too)

    def _spawn(self, i: int) -> Any:
        seed = self.cfg.seed * 1000 + 1 + 7919 * i + 104729 * self.restarts
        return self.actor_cls.remote(self.cfg.game, self.cfg.num_games, seed, self.cfg.past_fraction,
                                     self.cfg.bot_fraction, run_weights(self.cfg.reward_kill, self.cfg.reward_tower),
                                     self.cfg.random_fraction)

    def _submit(self, i: int, weights_ref: Any, version: int, tau: float, pool: OpponentPool, T: int) -> None:
        missing = {pid: pool.weights[pid] for pid in pool.ids if pid not in self.known[i]}
        self.known[i] |= set(missing)
        ref = self.actors[i].rollout.remote(weights_ref, T, tau, pool.table(), missing, version)
        self.pending[ref] = i

    def collect(self, weights: Weights, version: int, tau: float, pool: OpponentPool, T: int) -> dict[str, Any]:
        """The next chunk any worker finishes that is at most ``max_staleness`` versions old."""
        ray = self.ray
        from ray import exceptions as rex

        died = (rex.RayActorError, rex.ActorDiedError, rex.WorkerCrashedError)
        weights_ref = ray.put(weights)
        busy = set(self.pending.values())
        for i in range(len(self.actors)):
            if i not in busy:
                self._submit(i, weights_ref, version, tau, pool, T)
        while True:
            ready, _ = ray.wait(list(self.pending), num_returns=1)
            ref = ready[0]
            i = self.pending.pop(ref)
            try:
                out = ray.get(ref)
            except died:
                self.restarts += 1
                self.actors[i] = self._spawn(i)
                self.known[i] = set()
                self._submit(i, weights_ref, version, tau, pool, T)
                continue
            self._submit(i, weights_ref, version, tau, pool, T)  # the newest weights, while we learn
            self.cpu_s += float(out.get("cpu_s", 0.0))
            if version - int(out["version"]) > self.cfg.max_staleness:
                self.dropped += 1
                continue
            return out

    def worker_cpu_s(self) -> float:
        """CPU seconds the workers spent on the chunks returned so far (outside the learner's process)."""
        return self.cpu_s

    def set_obs(self, obs: str) -> None:
        self.ray.get([a.set_obs.remote(obs) for a in self.actors])

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, st: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []
