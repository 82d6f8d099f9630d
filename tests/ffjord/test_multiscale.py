"""Image pieces: squeeze, logit preprocessing, bits/dim, the multiscale CNF."""

import math

import numpy as np
import pytest
import torch

from ilya.ffjord.multiscale import (
    MultiscaleCNF,
    bits_per_dim,
    dequantize,
    logit_inverse,
    logit_transform,
    squeeze,
    unsqueeze,
)


def test_squeeze_is_invertible_and_moves_patches_to_channels():
    x = torch.arange(2 * 3 * 4 * 6, dtype=torch.float32).view(2, 3, 4, 6)
    s = squeeze(x)
    assert s.shape == (2, 12, 2, 3)
    assert torch.equal(unsqueeze(s), x)
    # the four channels of one output pixel are one 2x2 input patch
    assert sorted(s[0, :4, 0, 0].tolist()) == sorted(x[0, 0, :2, :2].flatten().tolist())


def test_logit_transform_log_jacobian_matches_autograd():
    torch.manual_seed(0)
    y = torch.rand(1, 5, dtype=torch.float64)
    w, logdet = logit_transform(y, alpha=0.05)
    J = torch.autograd.functional.jacobian(lambda v: logit_transform(v, 0.05)[0], y).reshape(5, 5)
    assert logdet.item() == pytest.approx(torch.logdet(J).item(), abs=1e-9)
    assert torch.allclose(logit_inverse(w, 0.05), y)


def test_bits_per_dim_of_the_uniform_density_is_eight():
    assert bits_per_dim(torch.zeros(3), 784, 256).tolist() == pytest.approx([8.0] * 3)
    # a model twice as likely per dimension saves one bit per dimension
    assert bits_per_dim(torch.tensor([784 * math.log(2)]), 784, 256).item() == pytest.approx(7.0)


def test_dequantized_pixels_stay_in_their_bins():
    x = torch.randint(0, 256, (4, 1, 8, 8))
    y = dequantize(x, 256)
    assert torch.equal(torch.floor(y * 256).long(), x)


def test_multiscale_cnf_density_is_normalised_at_initialisation_on_one_pixel_images():
    """With the dynamics zeroed, log p(w) is the standard normal: check the whole pipeline's bookkeeping."""
    torch.manual_seed(0)
    m = MultiscaleCNF((1, 4, 4), n_scales=2, n_blocks=1, hidden=(8,), divergence="exact")
    for p in m.parameters():
        torch.nn.init.zeros_(p) if p.dim() > 0 else None
    w = torch.randn(6, 1, 4, 4)
    with torch.no_grad():
        logp, _ = m(w)
    expected = (-0.5 * math.log(2 * math.pi) - 0.5 * w.pow(2)).flatten(1).sum(1)
    assert torch.allclose(logp, expected, atol=1e-5)


def test_multiscale_cnf_trains_and_samples():
    torch.manual_seed(0)
    m = MultiscaleCNF((1, 8, 8), n_scales=2, n_blocks=1, hidden=(8, 8))
    m.set_solver(atol=1e-3, rtol=1e-3)
    x = torch.from_numpy(np.random.default_rng(0).integers(0, 17, (16, 1, 8, 8)))
    opt = torch.optim.Adam(m.parameters(), 1e-2)
    losses = []
    for _ in range(15):
        bpd = bits_per_dim(m.log_prob_y(dequantize(x, 17)), 64, 17).mean()
        opt.zero_grad()
        bpd.backward()
        opt.step()
        losses.append(bpd.item())
    assert np.mean(losses[-3:]) < losses[0] - 0.1
    s = m.sample(5)
    assert s.shape == (5, 1, 8, 8) and (s >= 0).all() and (s <= 1).all()
    assert m.nfe() > 0
