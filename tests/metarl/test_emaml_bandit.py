"""E-MAML's extra gradient term, checked on a two-armed bandit where the meta-objective is exact."""

import torch

from ilya.metarl.maml import adapt, emaml_surrogate, replicate

REWARDS = torch.tensor([1.0, 0.2], dtype=torch.float64)
ALPHA = 0.7


def _post_values(theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each possible pre-update pull a: log π_θ(a) and V(θ'_a), θ'_a = one PG step on that pull."""
    params = replicate({"logits": theta}, 2)
    logp = torch.log_softmax(params["logits"], -1)  # (2 cases, 2 arms)
    arms = torch.arange(2)
    pulled = logp[arms, arms]  # case a pulled arm a
    inner = -(REWARDS * pulled).sum()
    adapted = adapt(params, inner, ALPHA)
    post = torch.softmax(adapted["logits"], -1) @ REWARDS  # (2,) expected post-update return
    return pulled, post


def exact_objective(theta: torch.Tensor) -> torch.Tensor:
    """J(θ) = Σ_a π_θ(a) V(θ'_a): the meta-objective, enumerated exactly."""
    pulled, post = _post_values(theta.clone().requires_grad_(True))
    return (pulled.exp() * post).sum().detach()


def meta_gradient(theta0: torch.Tensor, weight: float) -> torch.Tensor:
    theta = theta0.clone().requires_grad_(True)
    pulled, post = _post_values(theta)
    probs = pulled.exp().detach()
    surrogate = (probs * post).sum()  # MAML: gradient only through θ'
    surrogate = surrogate + weight * emaml_surrogate(pulled[:, None], post, weights=probs)
    (g,) = torch.autograd.grad(surrogate, theta)
    return g


def finite_difference(theta0: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    g = torch.zeros_like(theta0)
    for i in range(theta0.numel()):
        d = torch.zeros_like(theta0)
        d[i] = eps
        g[i] = (exact_objective(theta0 + d) - exact_objective(theta0 - d)) / (2 * eps)
    return g


def test_emaml_gradient_matches_finite_differences():
    theta0 = torch.tensor([0.3, -0.4], dtype=torch.float64)
    fd = finite_difference(theta0)
    assert torch.allclose(meta_gradient(theta0, 1.0), fd, atol=1e-7)
    # MAML alone misses the sampling-distribution term: a clearly different gradient
    assert (meta_gradient(theta0, 0.0) - fd).abs().max() > 1e-2


def test_emaml_monte_carlo_estimate_converges():
    """Sampled pre-update pulls, uniform weights: the same gradient up to Monte Carlo error."""
    theta0 = torch.tensor([0.3, -0.4], dtype=torch.float64)
    fd = finite_difference(theta0)
    gen = torch.Generator().manual_seed(0)
    n = 20000
    theta = theta0.clone().requires_grad_(True)
    arms = torch.multinomial(torch.softmax(theta0, -1), n, replacement=True, generator=gen)
    params = replicate({"logits": theta}, n)
    logp = torch.log_softmax(params["logits"], -1)
    pulled = logp[torch.arange(n), arms]
    adapted = adapt(params, -(REWARDS[arms] * pulled).sum(), ALPHA)
    post = torch.softmax(adapted["logits"], -1) @ REWARDS
    (g,) = torch.autograd.grad(post.mean() + emaml_surrogate(pulled[:, None], post), theta)
    assert torch.allclose(g, fd, atol=0.01)
