"""How an evaluation's per-world samples become a test return with its standard errors.

An evaluation scores N fixed held-out worlds, each M times (MAML: M independent adaptations, each scored
on its own post-update episodes; RL²: M trials; the random floor: M episodes).  ``scores`` is (N, M).

* ``mean``: the mean over worlds of each world's mean;
* ``se``: its Monte Carlo standard error *on these N worlds*, sqrt(Σᵢ seᵢ²) / N with seᵢ the standard
  error of world i's mean (`ilya.core.stats.mean_se`).  This is the error of the evaluation itself, the
  one that more episodes shrink, and the right one to compare two policies on the same worlds;
* ``se_worlds``: the standard error over worlds (of the N world means), which also counts which worlds
  were drawn: the error of a claim about the task distribution.
"""

from __future__ import annotations

import math

import numpy as np

from ilya.core.stats import mean_se


def world_stats(scores: np.ndarray) -> dict[str, float]:
    """(N worlds, M samples) -> {"mean", "se", "se_worlds", "n_worlds", "n_per_world"}."""
    x = np.asarray(scores, np.float64)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"world_stats expects (worlds, samples), got shape {x.shape}")
    per_world = [mean_se(row) for row in x]
    means = [m for m, _ in per_world]
    mean, se_worlds = mean_se(means)
    se = math.sqrt(math.fsum(s * s for _, s in per_world)) / len(per_world)
    return {"mean": mean, "se": se, "se_worlds": se_worlds, "n_worlds": float(x.shape[0]),
            "n_per_world": float(x.shape[1])}
