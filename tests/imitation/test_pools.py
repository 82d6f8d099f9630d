"""DAgger's pools: the concatenated pool of a task is kept between rounds and rebuilt after an add or a load."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ilya.imitation.dataset import Dataset
from ilya.imitation.train import Pools


def small_pools() -> Pools:
    rng = np.random.default_rng(0)
    shard = {"obs": rng.random((2, 5, 8), dtype=np.float32), "actions": rng.random((2, 4, 4), dtype=np.float32),
             "lengths": np.array([4, 3])}
    return Pools(Dataset(Path("."), {"max_blocks": 1, "train": ["ab"], "test": ["ab"]}, [shard], [shard]))


def test_pool_is_reused_until_an_add_then_holds_every_pair_in_order() -> None:
    pools = small_pools()
    obs, act, src = pools.pool(0)
    assert len(obs) == 7 and src.tolist() == [0, 0, 0, 0, 1, 1, 1]
    pools.add(0, np.full((3, 8), 2.0, np.float32), np.full((3, 4), 2.0, np.float32))
    first = pools.pool(0)
    assert first is pools.pool(0)                          # no copy per batch between rounds
    pools.add(0, np.full((2, 8), 3.0, np.float32), np.full((2, 4), 3.0, np.float32))
    obs, act, src = pools.pool(0)
    assert obs is not first[0] and len(obs) == 12
    assert src.tolist() == [0, 0, 0, 0, 1, 1, 1, -1, -1, -1, -1, -1]
    assert obs[7:10, 0].tolist() == [2.0] * 3 and act[10:, 0].tolist() == [3.0] * 2
    assert pools.extra_pairs == 5


def test_a_loaded_pool_replaces_the_kept_one() -> None:
    pools = small_pools()
    pools.add(0, np.full((3, 8), 2.0, np.float32), np.full((3, 4), 2.0, np.float32))
    saved = pools.state()
    pools.pool(0)
    pools.add(0, np.full((4, 8), 5.0, np.float32), np.full((4, 4), 5.0, np.float32))
    pools.pool(0)
    pools.load(saved)                                      # a resumed run: the checkpoint's pairs only
    obs, _, src = pools.pool(0)
    assert len(obs) == 10 and (src == -1).sum() == 3 and obs[7:, 0].tolist() == [2.0] * 3
