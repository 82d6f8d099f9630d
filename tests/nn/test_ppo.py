"""PPO pieces: GAE against a hand computation, the clipped surrogate's gradient, and PPO learning a bandit."""

import numpy as np
import torch

from ilya.nn.ppo import RolloutBuffer, discounted_returns, gae, normalize, ppo_clip_loss


def test_gae_matches_hand_computation():
    r = torch.tensor([[1.0, 0.0, 2.0]])
    v = torch.tensor([[0.5, 0.2, 1.0]])
    d = torch.tensor([[0.0, 0.0, 0.0]])
    last = torch.tensor([0.3])
    g, lam = 0.9, 0.8
    d2 = 2.0 + g * 0.3 - 1.0
    d1 = 0.0 + g * 1.0 - 0.2
    d0 = 1.0 + g * 0.2 - 0.5
    a2 = d2
    a1 = d1 + g * lam * a2
    a0 = d0 + g * lam * a1
    adv, ret = gae(r, v, d, last, g, lam)
    assert torch.allclose(adv, torch.tensor([[a0, a1, a2]]))
    assert torch.allclose(ret, adv + v)


def test_gae_stops_at_done_and_lambda_one_is_monte_carlo():
    r = torch.tensor([[1.0, 1.0, 1.0, 1.0]])
    v = torch.zeros(1, 4)
    d = torch.tensor([[0.0, 1.0, 0.0, 0.0]])
    adv, _ = gae(r, v, d, torch.tensor([5.0]), 0.5, 1.0)
    # the episode ends at t=1: no credit flows back from t=2 or the bootstrap value
    assert torch.allclose(adv[0, :2], torch.tensor([1.5, 1.0]))
    assert torch.allclose(adv[0, 2:], torch.tensor([1.0 + 0.5 + 0.25 * 5.0, 1.0 + 0.5 * 5.0]))
    no_done = torch.zeros(1, 4)
    adv, _ = gae(r, v, no_done, torch.tensor([0.0]), 0.9, 1.0)
    assert torch.allclose(adv, discounted_returns(r, 0.9))


def test_clipped_surrogate_has_no_gradient_past_the_clip():
    logp_old = torch.zeros(4)
    logp_new = torch.log(torch.tensor([1.5, 0.5, 1.1, 0.9])).requires_grad_(True)
    adv = torch.tensor([1.0, -1.0, 1.0, -1.0])
    loss, info = ppo_clip_loss(logp_new, logp_old, adv, clip=0.2)
    loss.backward()
    g = logp_new.grad
    assert g[0] == 0 and g[1] == 0  # ratio 1.5 with A>0 and 0.5 with A<0 are clipped
    assert g[2] < 0 and g[3] > 0  # inside the clip: the ordinary policy gradient (loss = -surrogate)
    assert info["clip_frac"] == 0.5


def test_normalize_and_buffer():
    x = torch.tensor([1.0, 2.0, 3.0, 100.0])
    m = torch.tensor([1.0, 1.0, 1.0, 0.0])
    y = normalize(x, m)
    assert abs(float((y * m).sum())) < 1e-5
    buf = RolloutBuffer(T=3, N=2, obs_shape=(1,), gamma=1.0, lam=1.0)
    for _ in range(3):
        buf.add(obs=np.zeros((2, 1)), actions=np.zeros(2), logp=np.zeros(2), values=np.zeros(2),
                rewards=np.ones(2), dones=np.zeros(2))
    out = buf.finish(np.zeros(2))
    assert out["advantages"].shape == (3, 2)
    assert torch.allclose(out["returns"][:, 0], torch.tensor([3.0, 2.0, 1.0]))


def test_ppo_learns_a_contextual_bandit():
    """PPO with the clipped loss learns to answer the context (reward 1 iff action == context)."""
    torch.manual_seed(0)
    policy = torch.nn.Linear(2, 2)
    opt = torch.optim.Adam(policy.parameters(), lr=0.05)
    gen = torch.Generator().manual_seed(0)

    def reward_rate() -> float:
        ctx = torch.arange(2)
        with torch.no_grad():
            probs = torch.softmax(policy(torch.eye(2)[ctx]), -1)
        return float(probs[ctx, ctx].mean())

    start = reward_rate()
    for _ in range(30):
        ctx = torch.randint(2, (256,), generator=gen)
        obs = torch.eye(2)[ctx]
        with torch.no_grad():
            logp_all = torch.log_softmax(policy(obs), -1)
            a = torch.multinomial(logp_all.exp(), 1, generator=gen).squeeze(1)
            logp_old = logp_all.gather(1, a[:, None]).squeeze(1)
        r = (a == ctx).float()
        adv = normalize(r)
        for _ in range(4):
            logp = torch.log_softmax(policy(obs), -1).gather(1, a[:, None]).squeeze(1)
            loss, _ = ppo_clip_loss(logp, logp_old, adv, 0.2)
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert start < 0.7 and reward_rate() > 0.95
