"""Distributed sampling: two local Ray workers give exactly the in-process trajectories."""

import numpy as np
import pytest
import torch

from ilya.metarl.envs import KrazyConfig
from ilya.metarl.maml import replicate
from ilya.metarl.policy import init_mlp, to_numpy
from ilya.metarl.sampling import EnvSpec, Sampler
from ilya.nn.recurrent import RecurrentActorCritic

pytest.importorskip("ray")


@pytest.mark.procs
def test_ray_workers_match_in_process_sampling():
    import ray

    spec = EnvSpec("krazy", KrazyConfig(size=6, horizon=10))
    local, remote = Sampler(spec, workers=0), Sampler(spec, workers=2)
    try:
        seeds = np.arange(5)
        params = init_mlp(spec.obs_dim, 4, (16,), torch.Generator().manual_seed(0))
        per_task = to_numpy({k: v + 0.01 * torch.arange(5.0).view(5, *[1] * (v.dim() - 1))
                             for k, v in replicate(params, 5).items()})
        for p in (to_numpy(params), per_task):
            a, b = local.mlp(p, seeds, 3, seed=1), remote.mlp(p, seeds, 3, seed=1)
            for k in a:
                assert np.allclose(a[k], b[k], atol=1e-6), k
        kw = {"obs_dim": spec.obs_dim + 6, "n_actions": 4, "hidden": 8, "embed": 8}
        state = {k: v.numpy() for k, v in RecurrentActorCritic(**kw).state_dict().items()}
        a, b = local.rnn(kw, state, seeds, 2, seed=3), remote.rnn(kw, state, seeds, 2, seed=3)
        assert np.array_equal(a["actions"], b["actions"]) and np.allclose(a["rewards"], b["rewards"])
    finally:
        ray.shutdown()
