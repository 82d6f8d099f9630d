"""MAML for RL (Finn et al. 2017) with a PPO meta-update, and E-MAML (Stadie et al. 2018, sec. 3).

MAML's meta-objective for task i is the return of the *adapted* policy,

    J(θ) = E_{τ ~ π_θ} [ E_{τ' ~ π_θ'} [ R(τ') ] ],   θ' = θ + α ∇̂_θ (policy-gradient estimate from τ).

Differentiating through θ' alone (what MAML does) ignores that the pre-update trajectories τ were
themselves sampled from π_θ.  E-MAML adds that term,

    ∇J = E[ ∇_θ R(τ') through θ' ]  +  λ_E · E[ (Σ_t ∇ log π_θ(a_t|s_t) over τ) · (R(τ') - b) ],

which rewards the pre-update policy for collecting data that makes the update good: exploration.
`emaml_surrogate` is a scalar whose gradient is that second term; its weight λ_E is ``--emaml-weight``.

Everything is vectorised over the meta-batch: the parameters are replicated along a task axis
(`replicate`), each task's inner loss depends only on its own slice, so one ``autograd.grad`` of the
summed inner losses gives every task's own gradient (`adapt`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ilya.metarl.policy import Params, mlp_logits
from ilya.nn.ppo import gae


def replicate(params: Params, n: int) -> Params:
    """Each weight with a new leading task axis of size n (differentiable: gradients flow back)."""
    return {k: v.unsqueeze(0).expand(n, *v.shape) for k, v in params.items()}


def adapt(params: Params, inner_loss: torch.Tensor, lr: float, create_graph: bool = True) -> Params:
    """One inner gradient step θ' = θ - α ∇ L_inner(θ), kept differentiable for the meta-gradient."""
    names = list(params)
    grads = torch.autograd.grad(inner_loss, [params[k] for k in names], create_graph=create_graph)
    return {k: params[k] - lr * g for k, g in zip(names, grads, strict=True)}


def action_logp(params: Params, obs: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """log π(a|s) and the entropy, obs (N, K, T, D), actions (N, K, T) -> (N, K, T) each."""
    logits = mlp_logits(params, obs)
    logp_all = F.log_softmax(logits, -1)
    ent = -(logp_all.exp() * logp_all).sum(-1)
    return logp_all.gather(-1, actions[..., None]).squeeze(-1), ent


def pg_inner_loss(logp: torch.Tensor, adv: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Sum over tasks of each task's vanilla policy-gradient loss -mean_t log π(a_t|s_t) A_t."""
    per_task = -(logp * adv * mask).flatten(1).sum(1) / mask.flatten(1).sum(1).clamp_min(1.0)
    return per_task.sum()


def emaml_surrogate(pre_logp: torch.Tensor, post_return: torch.Tensor,
                    weights: torch.Tensor | None = None, baseline: torch.Tensor | None = None) -> torch.Tensor:
    """A scalar whose gradient is E-MAML's extra term E[∇ log π_θ(τ) · (R(τ') - b)] (to be maximised).

    pre_logp: (N, K) log-probability of each pre-update trajectory under π_θ (summed over its steps);
    post_return: (N,) return of task i's adapted policy.  ``weights`` (N,) are the probabilities of the
    N cases when they are enumerated exactly rather than sampled (default: uniform, a Monte Carlo
    average).  ``baseline`` (N,) or a scalar is subtracted from the returns; it must not depend on the
    trajectories it is used with (the trainer's per-world running mean from earlier iterations), which
    leaves the expectation unchanged since E[∇ log π] = 0.  Without it, the weighted mean of the returns
    is subtracted: exact when the cases are enumerated with their probabilities, but biased by O(1/N)
    for a Monte Carlo batch (each return is in its own baseline).
    """
    N = pre_logp.shape[0]
    w = torch.full((N,), 1.0 / N, dtype=pre_logp.dtype) if weights is None else weights
    R = post_return.detach()
    advantage = R - ((w * R).sum() if baseline is None else baseline.detach())
    return (w * pre_logp.mean(1) * advantage).sum()


# ---------------------------------------------------------------------------- advantages
def linear_baseline(obs: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor,
                    reg: float = 1e-3) -> torch.Tensor:
    """Per-task linear value fit (Duan et al. 2016's baseline): features [s, t, t², t³, 1].

    obs (N, K, T, D), returns/mask (N, K, T) -> values (N, K, T), one least-squares fit per task.
    """
    N, K, T, _ = obs.shape
    t = torch.arange(T, dtype=obs.dtype).expand(N, K, T)[..., None] / 100.0
    feats = torch.cat([obs, t, t**2, t**3, torch.ones_like(t)], -1)  # (N, K, T, F)
    X = (feats * mask[..., None]).reshape(N, K * T, -1)
    y = (returns * mask).reshape(N, K * T, 1)
    Fdim = X.shape[-1]
    A = X.transpose(1, 2) @ X + reg * torch.eye(Fdim)
    coef = torch.linalg.solve(A, X.transpose(1, 2) @ y)  # (N, F, 1)
    return (feats.reshape(N, K * T, -1) @ coef).reshape(N, K, T) * mask


def advantages(obs: torch.Tensor, rewards: torch.Tensor, mask: torch.Tensor, gamma: float,
               lam: float) -> torch.Tensor:
    """GAE(γ, λ) with the per-task linear baseline, normalised over each task's real steps."""
    from ilya.nn.ppo import discounted_returns

    returns = discounted_returns(rewards, gamma)
    values = linear_baseline(obs, returns, mask)
    dones = torch.zeros_like(rewards)
    adv, _ = gae(rewards, values, dones, torch.zeros(rewards.shape[:-1]), gamma, lam)
    n = mask.flatten(1).sum(1).clamp_min(1.0)[:, None, None]
    mean = (adv * mask).flatten(1).sum(1)[:, None, None] / n
    std = (((adv - mean) ** 2 * mask).flatten(1).sum(1)[:, None, None] / n).sqrt()
    return (adv - mean) / (std + 1e-8) * mask
