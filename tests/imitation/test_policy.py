"""Shapes and masking of the paper's networks, temporal dropout, and the BC loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ilya.imitation.config import ModelConfig
from ilya.imitation.policy import OneShotPolicy, bc_loss, dropout_indices, pack_demos, split_obs

torch.set_num_threads(1)
B = 5


def _obs(n: int, present: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    o = torch.randn(n, 4 + 4 * B, generator=g) * 0.1
    blocks = o[:, 4:].reshape(n, B, 4)
    blocks[..., 3] = 0.0
    blocks[:, :present, 3] = 1.0
    blocks[:, present:, :3] = 0.0
    return o


@pytest.fixture(scope="module")
def model() -> OneShotPolicy:
    torch.manual_seed(0)
    return OneShotPolicy(ModelConfig(dim=16, hidden=32, conv_dilations=[1, 2])).eval()


def test_shapes(model: OneShotPolicy) -> None:
    demo = _obs(3 * 7, 4).reshape(3, 7, -1)
    mask = torch.ones(3, 7, dtype=torch.bool)
    emb = model.encode_demo(demo, mask)
    assert emb.shape == (3, 7, B, 16)
    assert model.act_from(emb, mask, _obs(3, 4)).shape == (3, 4)
    grip, rel, present = split_obs(_obs(2, 3))
    assert grip.shape == (2, 4) and rel.shape == (2, B, 3) and present.tolist() == [[1, 1, 1, 0, 0]] * 2


def test_absent_blocks_and_padded_steps_are_masked(model: OneShotPolicy) -> None:
    demo = _obs(6, 3).reshape(1, 6, -1)
    mask = torch.ones(1, 6, dtype=torch.bool)
    obs = _obs(1, 3, seed=1)
    base = model(demo, mask, obs)
    # padding the demonstration with 4 more (masked) steps of garbage changes nothing
    pad = torch.cat([demo, torch.randn(1, 4, demo.shape[-1]) * 5], dim=1)
    pmask = torch.cat([mask, torch.zeros(1, 4, dtype=torch.bool)], dim=1)
    torch.testing.assert_close(model(pad, pmask, obs), base, atol=1e-5, rtol=1e-5)
    # whatever an absent block's slot holds (its present flag is 0) changes nothing
    junk_demo, junk_obs = demo.clone(), obs.clone()
    junk_demo[..., 4 + 4 * 4: 4 + 4 * 4 + 3] = 3.0
    junk_obs[..., 4 + 4 * 4: 4 + 4 * 4 + 3] = -2.0
    torch.testing.assert_close(model(junk_demo, mask, junk_obs), base, atol=1e-5, rtol=1e-5)
    # but a present block's position does change the action
    moved = obs.clone()
    moved[..., 4:7] += 0.05
    assert not torch.allclose(model(demo, mask, moved), base, atol=1e-4)


def test_temporal_dropout() -> None:
    rng = np.random.default_rng(0)
    kept = [len(dropout_indices(999, 0.95, rng)) for _ in range(200)]
    assert 45 < np.mean(kept) < 55                                   # 5 % of 1000 steps
    test = dropout_indices(100, 0.95, None)
    assert test[-1] == 100 and np.all(np.diff(test) == 20)           # regular, final state kept
    assert dropout_indices(3, 0.0, None).tolist() == [0, 1, 2, 3]
    assert len(dropout_indices(2, 0.999, np.random.default_rng(1))) >= 1


def test_pack_and_loss() -> None:
    d, m = pack_demos([np.ones((2, 3), np.float32), np.ones((4, 3), np.float32)])
    assert d.shape == (2, 4, 3) and m.sum(1).tolist() == [2, 4] and float(d[0, 2:].abs().sum()) == 0.0
    target = torch.tensor([[1.0, -1.0, 0.5, 1.0]])
    perfect = torch.tensor([[20.0, -20.0, float(np.arctanh(0.5)), 20.0]])
    loss, parts = bc_loss(perfect, target)
    assert parts["move_l1"] < 1e-6 and float(loss) < 1e-6
    wrong, _ = bc_loss(-perfect, target)
    assert float(wrong) > 1.0


def test_grip_switch_steps_weigh_more() -> None:
    """The grip's cross-entropy weighs a step where the expert closes an open gripper GRIP_SWITCH_WEIGHT times."""
    from ilya.imitation.policy import GRIP_SWITCH_WEIGHT, bc_loss

    out = torch.zeros(2, 4)                       # grip logit 0: cross-entropy log 2 on every step
    out[1, 3] = 2.0
    action = torch.tensor([[0.0, 0, 0, 1.0], [0.0, 0, 0, 1.0]])
    obs = torch.zeros(2, 8)
    obs[0, 3] = 1.0                               # step 0: gripper open, expert closes (a switch)
    obs[1, 3] = 0.0                               # step 1: already closed, expert keeps it closed
    _, parts = bc_loss(out, action, obs)
    l0, l1 = math.log(2.0), math.log(1.0 + math.exp(-2.0))
    want = (GRIP_SWITCH_WEIGHT * l0 + l1) / (GRIP_SWITCH_WEIGHT + 1.0)
    assert abs(parts["grip_bce"] - want) < 1e-5
    _, plain = bc_loss(out, action)
    assert abs(plain["grip_bce"] - (l0 + l1) / 2) < 1e-5


def test_fine_approach_steps_weigh_more() -> None:
    """With fine_weight w, a step whose expert move is small but not zero counts w times in the move error."""
    out = torch.zeros(2, 4)                              # the policy stands still
    action = torch.tensor([[1.0, -1.0, 0.0, 0.0],        # saturated: error 2/3
                           [0.3, 0.0, 0.0, 0.0]])        # fine approach: error 0.1
    _, plain = bc_loss(out, action)
    _, weighted = bc_loss(out, action, fine_weight=3.0)
    assert abs(plain["move_l1"] - (2 / 3 + 0.1) / 2) < 1e-6
    assert abs(weighted["move_l1"] - (2 / 3 + 3 * 0.1) / 4) < 1e-6
