"""Hutchinson's estimator is unbiased; the exact divergence is the Jacobian's trace."""

import pytest
import torch

from ilya.ffjord.divergence import divergence_exact, divergence_hutchinson, sample_noise
from ilya.ffjord.layers import ODEnet


def _field(d: int = 5):
    torch.manual_seed(0)
    net = ODEnet(d, (32, 32), "concatsquash", "tanh")
    z = torch.randn(3, d, requires_grad=True)
    f = net(torch.tensor(0.3), z)
    return net, z, f


def test_exact_divergence_is_the_trace_of_the_jacobian():
    net, z, f = _field()
    div = divergence_exact(f, z)
    for b in range(z.shape[0]):
        J = torch.autograd.functional.jacobian(lambda v: net(torch.tensor(0.3), v[None])[0], z[b].detach())
        assert div[b].item() == pytest.approx(torch.trace(J).item(), abs=1e-5)


@pytest.mark.parametrize("noise", ["gaussian", "rademacher"])
def test_hutchinson_is_unbiased(noise):
    net, z, f = _field()
    exact = divergence_exact(f, z).detach()
    torch.manual_seed(1)
    n = 4000
    # n independent draws per point in one call: each row of the repeated batch gets its own noise
    zz = z.detach().repeat(n, 1).requires_grad_(True)  # (n * B, D)
    ff = net(torch.tensor(0.3), zz)
    est = divergence_hutchinson(ff, zz, sample_noise(zz, noise), create_graph=False)[0]
    draws = est.detach().view(n, -1)  # (n, B)
    mean, se = draws.mean(0), draws.std(0) / n ** 0.5
    assert (se > 0).all()  # the estimator is genuinely random
    assert ((mean - exact).abs() < 4 * se).all(), (mean, exact, se)


def test_noise_has_identity_covariance():
    torch.manual_seed(0)
    like = torch.zeros(20000, 3)
    for kind in ("gaussian", "rademacher"):
        e = sample_noise(like, kind)
        cov = e.T @ e / len(e)
        assert torch.allclose(cov, torch.eye(3), atol=0.05)
    assert set(sample_noise(like, "rademacher").unique().tolist()) == {-1.0, 1.0}
    with pytest.raises(ValueError):
        sample_noise(like, "uniform")
