"""Self-play's opponent pool with quality scores (Berner et al. 2019, Appendix N).

80 % of games are played against the current policy and 20 % against past versions.  Each past version
i has a quality score q_i and is drawn with probability p_i = exp(q_i) / Σ_j exp(q_j).  When the current
policy beats version i, q_i <- q_i - η / (N p_i) (N versions in the pool), so versions that are easy to
beat are drawn less.  A new version enters with the highest score in the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class OpponentPool:
    """Past versions of the policy: ids, the iteration each was taken at, quality scores and weights."""

    max_size: int = 32
    lr: float = 0.01
    ids: list[int] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    q: list[float] = field(default_factory=list)
    weights: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    next_id: int = 0

    def __len__(self) -> int:
        return len(self.ids)

    def probabilities(self) -> np.ndarray:
        """p_i ∝ exp(q_i)."""
        if not self.q:
            return np.zeros(0)
        q = np.asarray(self.q, np.float64)
        e = np.exp(q - q.max())
        return e / e.sum()

    def add(self, version: int, weights: dict[str, np.ndarray]) -> int:
        """Add a version with the pool's highest quality (0 for the first); drop the lowest when full."""
        q = max(self.q) if self.q else 0.0
        pid = self.next_id
        self.next_id += 1
        self.ids.append(pid)
        self.versions.append(version)
        self.q.append(q)
        self.weights[pid] = weights
        if len(self.ids) > self.max_size:
            j = int(np.argmin(self.q[:-1]))  # never the newest
            self.weights.pop(self.ids[j], None)
            for lst in (self.ids, self.versions, self.q):
                lst.pop(j)
        return pid

    def update(self, pid: int, learner_won: bool) -> None:
        """The paper's update: a win of the current policy against ``pid`` lowers its quality."""
        if pid not in self.ids or not learner_won:
            return
        p = self.probabilities()
        j = self.ids.index(pid)
        self.q[j] -= self.lr / (len(self.ids) * p[j])

    def sample(self, rng: np.random.Generator) -> int:
        return int(self.ids[int(rng.choice(len(self.ids), p=self.probabilities()))])

    def table(self) -> list[tuple[int, float]]:
        """(id, p) for the rollout workers, who draw opponents themselves."""
        return list(zip(self.ids, self.probabilities().tolist(), strict=True))

    def state_dict(self) -> dict[str, Any]:
        return {"ids": list(self.ids), "versions": list(self.versions), "q": list(self.q),
                "next_id": self.next_id, "weights": {str(k): v for k, v in self.weights.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.ids = [int(i) for i in state["ids"]]
        self.versions = [int(v) for v in state["versions"]]
        self.q = [float(v) for v in state["q"]]
        self.next_id = int(state["next_id"])
        self.weights = {int(k): dict(v) for k, v in state["weights"].items()}
