"""RL² memory across episodes, E-RL²'s objective, MAML's per-task inner step, the samplers."""

import numpy as np
import torch

from ilya.metarl.envs import KrazyConfig
from ilya.metarl.maml import adapt, linear_baseline, replicate
from ilya.metarl.policy import init_mlp, mlp_logits, mlp_logits_np, sample_from_logits, to_numpy
from ilya.metarl.rl2 import episode_returns, objective_rewards, trial_dones
from ilya.metarl.sampling import EnvSpec, rnn_inputs, rollout_mlp, rollout_rnn, task_uniforms
from ilya.nn.ppo import gae
from ilya.nn.recurrent import RecurrentActorCritic

SPEC = EnvSpec("krazy", KrazyConfig(size=6, horizon=8))


def _rnn(seed=0):
    torch.manual_seed(seed)
    kw = {"obs_dim": SPEC.obs_dim + SPEC.n_actions + 2, "n_actions": SPEC.n_actions, "hidden": 16, "embed": 16}
    net = RecurrentActorCritic(**kw)
    with torch.no_grad():  # a sharper policy so that the hidden state visibly changes the actions
        net.pi.weight.mul_(300.0)
    return kw, net, {k: v.numpy() for k, v in net.state_dict().items()}


def test_rl2_memory_is_kept_across_episodes_and_reset_between_trials():
    kw, net, state = _rnn()
    seeds, E = [0, 1, 2, 3], 3
    b = rollout_rnn(SPEC, seeds, range(4), kw, state, E, seed=5)
    x = torch.from_numpy(rnn_inputs(b["obs"], b["actions"], b["rewards"], b["first"], SPEC.n_actions))
    u = task_uniforms(5, range(4), (E * SPEC.horizon,))
    real = b["mask"] > 0
    # one pass from a zero state at the start of the trial, never reset inside it, reproduces the actions
    logits, _, _ = net(x)
    kept = sample_from_logits(logits.detach().numpy(), u)
    assert np.array_equal(kept[real], b["actions"][real])
    # resetting the memory at every episode start would have acted differently
    reset_logits, _, _ = net(x, starts=torch.from_numpy(b["first"]))
    assert not np.array_equal(sample_from_logits(reset_logits.detach().numpy(), u)[real], b["actions"][real])
    # a new trial starts from the reset state: the same seed gives the same trial again
    b2 = rollout_rnn(SPEC, seeds, range(4), kw, state, E, seed=5)
    assert np.array_equal(b2["actions"], b["actions"])


def test_rl2_episodes_are_packed_back_to_back():
    """No dummy steps between the episodes of a trial: padding only after the last one."""
    kw, _, state = _rnn()
    E, T = 4, SPEC.horizon
    b = rollout_rnn(SPEC, list(range(6)), range(6), kw, state, E, seed=2)
    for i in range(6):
        n = int(b["mask"][i].sum())
        assert np.all(b["mask"][i, :n] == 1) and np.all(b["mask"][i, n:] == 0)  # real steps, then padding
        ep = b["episode"][i, :n]
        assert ep[0] == 0 and ep[-1] == E - 1 and np.all(np.diff(ep) >= 0) and np.all(np.diff(ep) <= 1)
        assert np.all(b["episode"][i, n:] == E)
        starts = np.flatnonzero(b["first"][i])
        assert starts.tolist() == [0, *(np.flatnonzero(np.diff(ep)) + 1).tolist()]  # a flag per new episode
        assert all(np.sum(ep == e) <= T for e in range(E))
        assert np.all(b["rewards"][i, n:] == 0)
    # episodes end early (deaths, goals, energy), so packed trials are shorter than E fixed slots
    assert b["mask"].sum() < 6 * E * T
    # the returns per episode follow the episode index
    ret = episode_returns(b["rewards"], b["episode"], E)
    assert np.allclose(ret.sum(1), b["rewards"].sum(1))


def test_rl2_inputs_carry_previous_action_and_reward():
    obs = np.zeros((1, 4, 2), np.float32)
    first = np.array([[1, 0, 1, 0]], np.float32)
    x = rnn_inputs(obs, np.array([[1, 2, 3, 0]]), np.array([[0.0, 1.0, 0.0, 0.5]], np.float32), first, 4)
    assert x.shape == (1, 4, 2 + 4 + 2)
    assert x[0, 1, 2 + 1] == 1 and x[0, 2, 2 + 2] == 1 and x[0, 2, 6] == 1.0  # a_{t-1}, r_{t-1}
    assert x[0, :, 7].tolist() == [1, 0, 1, 0]  # new-episode flags


def test_erl2_leaves_exploratory_returns_out():
    r = torch.ones(2, 10)
    episode = torch.arange(10).repeat(2, 1) // 2
    assert torch.equal(objective_rewards(r, episode, 3, explore_free=False), r)
    e = objective_rewards(r, episode, 3, explore_free=True)
    assert e[:, :6].sum() == 0 and torch.equal(e[:, 6:], r[:, 6:])
    assert episode_returns(np.ones((2, 10)), episode.numpy(), 5).tolist() == [[2.0] * 5] * 2


def test_trial_dones_mark_the_last_real_step():
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.float32)
    assert trial_dones(mask).tolist() == [[0, 0, 1, 0, 0], [0, 0, 0, 0, 1]]
    # with it, GAE gives the padding after a trial no say in the advantages of its real steps
    rewards = torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0]])
    v1 = torch.tensor([[0.1, 0.2, 0.3, 5.0, -7.0]])
    v2 = torch.tensor([[0.1, 0.2, 0.3, -9.0, 2.0]])
    a1, _ = gae(rewards, v1, trial_dones(mask[:1]), torch.zeros(1), 0.99, 0.97)
    a2, _ = gae(rewards, v2, trial_dones(mask[:1]), torch.zeros(1), 0.99, 0.97)
    assert torch.allclose(a1[:, :3], a2[:, :3])


def test_adapt_gives_each_task_its_own_gradient_step():
    torch.manual_seed(0)
    params = {k: v.requires_grad_(True) for k, v in init_mlp(5, 3, (8,)).items()}
    obs = torch.randn(3, 2, 4, 5)
    target = torch.randint(3, (3, 2, 4))
    rep = replicate(params, 3)
    losses = torch.nn.functional.cross_entropy(mlp_logits(rep, obs).flatten(0, 2), target.flatten(),
                                               reduction="none").view(3, -1).mean(1)
    adapted = adapt(rep, losses.sum(), lr=0.1)
    for i in range(3):
        li = torch.nn.functional.cross_entropy(mlp_logits(params, obs[i]).flatten(0, 1), target[i].flatten())
        grads = torch.autograd.grad(li, list(params.values()))
        for (k, p), g in zip(params.items(), grads, strict=True):
            assert torch.allclose(adapted[k][i], p - 0.1 * g, atol=1e-6)
    # and the adapted weights are differentiable w.r.t. θ (second-order MAML)
    (g2,) = torch.autograd.grad(mlp_logits(adapted, obs).sum(), [params["w0"]])
    assert g2.abs().sum() > 0


def test_numpy_and_torch_policies_agree():
    params = init_mlp(6, 4, (8, 8), torch.Generator().manual_seed(1))
    obs = torch.randn(2, 3, 6)
    per_task = replicate(params, 2)
    assert np.allclose(mlp_logits(params, obs).numpy(), mlp_logits_np(to_numpy(params), obs.numpy()), atol=1e-5)
    assert np.allclose(mlp_logits(per_task, obs).numpy(), mlp_logits_np(to_numpy(per_task), obs.numpy()),
                       atol=1e-5)


def test_linear_baseline_fits_linear_returns():
    obs = torch.rand(2, 3, 5, 4)
    returns = obs @ torch.tensor([1.0, -2.0, 0.5, 3.0]) + 0.7
    v = linear_baseline(obs, returns, torch.ones(2, 3, 5), reg=1e-6)
    assert torch.allclose(v, returns, atol=1e-3)


def test_mlp_rollout_shapes_and_masks():
    params = to_numpy(init_mlp(SPEC.obs_dim, 4, (8,)))
    b = rollout_mlp(SPEC, [0, 1], [0, 1], params, 3, seed=0, positions=True)
    assert b["obs"].shape == (2, 3, SPEC.horizon, SPEC.obs_dim) and b["pos"].shape == (2, 3, SPEC.horizon, 2)
    m = b["mask"]
    assert np.all(np.diff(m, axis=-1) <= 0)  # once an episode ends it stays ended
    assert np.all(b["rewards"][m == 0] == 0)
    # the noise is per task: task 1 alone, as task index 1, gives the same trajectories
    b1 = rollout_mlp(SPEC, [1], [1], params, 3, seed=0)
    assert np.array_equal(b1["actions"][0], b["actions"][1])
