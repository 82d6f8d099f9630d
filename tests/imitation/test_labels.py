"""The auxiliary loss's labels (the current stage's blocks, from a state) and the loss on the attention heads."""

from __future__ import annotations

import math

import numpy as np
import torch

from ilya.imitation.config import ModelConfig
from ilya.imitation.env import BlockStackEnv
from ilya.imitation.expert import expert_action
from ilya.imitation.labels import held_blocks, stage_labels, stages_done
from ilya.imitation.policy import OneShotPolicy, aux_loss

torch.set_num_threads(1)


def test_stages_from_the_observation_match_the_environment() -> None:
    """Along expert episodes (with 20 % random actions mixed in) the count from the observation alone equals
    the environment's own `stages_done`, and the held block is the one the environment holds."""
    steps = mismatches = held_wrong = 0
    for layout in ("ab cde", "cdba"):
        env = BlockStackEnv(layout, n_blocks=5, max_blocks=6)
        rng = np.random.default_rng(0)
        obs, _ = env.reset(seed=3)
        done = False
        while not done:
            steps += 1
            mismatches += int(stages_done(obs[None], env.task)[0] != env.stages_done())
            h = env.held()
            held_wrong += int(held_blocks(obs[None])[0] != (-1 if h is None else h))
            a = expert_action(env) if rng.random() < 0.8 else rng.uniform(-1, 1, 4)
            obs, _, term, trunc, _ = env.step(a)
            done = term or trunc
    assert steps > 150
    assert mismatches <= 0.01 * steps and held_wrong <= 0.01 * steps, (mismatches, held_wrong, steps)


def test_labels_name_the_first_stage_not_done() -> None:
    env = BlockStackEnv("ab cde", n_blocks=5, max_blocks=6)
    obs, _ = env.reset(seed=0)
    first = stage_labels(obs[None], env.task)[0].tolist()
    assert first == [1, 0]                                  # b goes on a
    # put b on a by hand: the next stage (d on c) is named
    pos = env.block_pos()
    env.data.qpos[env._bq[1]:env._bq[1] + 3] = pos[0] + [0.0, 0.0, 0.05]
    import mujoco
    mujoco.mj_forward(env.model, env.data)
    assert stage_labels(env.observation()[None], env.task)[0].tolist() == [3, 2]


def test_aux_loss_is_the_cross_entropy_and_ignores_done_states() -> None:
    logits = torch.zeros(3, 2, 4)
    logits[0, 0, 2] = 2.0                                    # head 0 of example 0 points at block 2
    labels = torch.tensor([[2, 1], [0, 3], [-1, -1]])       # example 2: every stage done, ignored
    loss, parts = aux_loss(logits, labels)
    ce_src = (-math.log(math.exp(2) / (math.exp(2) + 3)) + math.log(4)) / 2
    ce_tgt = math.log(4)
    assert abs(float(loss) - (ce_src + ce_tgt) / 2) < 1e-5
    assert parts["source_acc"] == 1.0 and parts["target_acc"] == 0.0   # uniform logits: argmax is block 0
    _, none = aux_loss(logits, torch.full((3, 2), -1))
    assert none == {}


def test_teacher_forcing_replaces_the_attended_block() -> None:
    """Forcing head 0 onto block k makes its output carry block k's relative position (x 10)."""
    torch.manual_seed(0)
    model = OneShotPolicy(ModelConfig(dim=16, hidden=32, conv_dilations=[1, 2])).eval()
    demo = torch.rand(2, 5, 28) * 0.1
    demo[..., 7::4] = 1.0
    obs = torch.rand(2, 28) * 0.2
    obs[:, 7::4] = 1.0
    mask = torch.ones(2, 5, dtype=torch.bool)
    emb = model.encode_demo(demo, mask)
    grip = obs[:, :4]
    cur = model.encoder(obs)
    rel = obs[:, 4:].reshape(2, 6, 4)[..., :3]
    present = torch.ones(2, 6, dtype=torch.bool)
    ctx = model.context_net(cur, grip, rel, present, emb, mask, torch.tensor([[4, -1], [1, -1]]))
    d = 16
    torch.testing.assert_close(ctx[:, d:d + 3], torch.stack([rel[0, 4], rel[1, 1]]) * 10.0)
