"""The 2D toy densities of FFJORD's Figure 2 and Table 1 (the same generators as the paper's code).

Every sampler takes ``(n, rng)`` and returns an (n, 2) float32 array roughly within [-4, 4]^2.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def eight_gaussians(n: int, rng: np.random.Generator) -> np.ndarray:
    """Eight unit-variance-0.25 Gaussians on a circle of radius 4 (scaled by 1/sqrt 2)."""
    angles = np.arange(8) * np.pi / 4
    centers = 4.0 * np.stack([np.cos(angles), np.sin(angles)], 1)  # (8, 2)
    x = centers[rng.integers(0, 8, n)] + 0.5 * rng.standard_normal((n, 2))
    return (x / 1.414).astype(np.float32)


def checkerboard(n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform on the black squares of a 4x4 board of side 8."""
    x1 = rng.random(n) * 4 - 2
    x2 = rng.random(n) - rng.integers(0, 2, n) * 2
    x2 = x2 + np.floor(x1) % 2
    return (np.stack([x1, x2], 1) * 2).astype(np.float32)


def two_spirals(n: int, rng: np.random.Generator) -> np.ndarray:
    """Two interleaved spirals."""
    m = n // 2
    t = np.sqrt(rng.random((m, 1))) * 540 * (2 * np.pi) / 360
    dx = -np.cos(t) * t + rng.random((m, 1)) * 0.5
    dy = np.sin(t) * t + rng.random((m, 1)) * 0.5
    x = np.vstack([np.hstack([dx, dy]), np.hstack([-dx, -dy])]) / 3
    x = x + 0.1 * rng.standard_normal(x.shape)
    if len(x) < n:
        x = np.vstack([x, x[: n - len(x)]])
    return x[rng.permutation(n)].astype(np.float32)


def pinwheel(n: int, rng: np.random.Generator) -> np.ndarray:
    """Five curved arms (Johnson et al. 2016)."""
    radial_std, tangential_std, num_classes, rate = 0.3, 0.1, 5, 0.25
    rads = np.linspace(0, 2 * np.pi, num_classes, endpoint=False)
    feats = rng.standard_normal((n, 2)) * np.array([radial_std, tangential_std])
    feats[:, 0] += 1.0
    labels = rng.integers(0, num_classes, n)
    angles = rads[labels] + rate * np.exp(feats[:, 0])
    rot = np.stack([np.cos(angles), -np.sin(angles), np.sin(angles), np.cos(angles)], 1).reshape(-1, 2, 2)
    return (2 * np.einsum("ti,tij->tj", feats, rot)).astype(np.float32)


def moons(n: int, rng: np.random.Generator) -> np.ndarray:
    """Two interleaving half circles with Gaussian noise 0.1."""
    m = n // 2
    a = np.pi * rng.random(m)
    b = np.pi * rng.random(n - m)
    x = np.vstack([np.stack([np.cos(a), np.sin(a)], 1), np.stack([1 - np.cos(b), 0.5 - np.sin(b)], 1)])
    x = x + 0.1 * rng.standard_normal(x.shape)
    x = x * 2 + np.array([-1.0, -0.2])
    return x[rng.permutation(n)].astype(np.float32)


def circles(n: int, rng: np.random.Generator) -> np.ndarray:
    """Two concentric circles (radius ratio 0.5) with noise 0.08, scaled by 3."""
    m = n // 2
    a = 2 * np.pi * rng.random(n)
    r = np.where(np.arange(n) < m, 1.0, 0.5)
    x = np.stack([r * np.cos(a), r * np.sin(a)], 1) + 0.08 * rng.standard_normal((n, 2))
    return (3 * x[rng.permutation(n)]).astype(np.float32)


def rings(n: int, rng: np.random.Generator) -> np.ndarray:
    """Four concentric rings of radii 1, 0.75, 0.5, 0.25 (scaled by 3) with noise 0.08."""
    radii = np.array([1.0, 0.75, 0.5, 0.25])[rng.integers(0, 4, n)]
    a = 2 * np.pi * rng.random(n)
    x = np.stack([radii * np.cos(a), radii * np.sin(a)], 1) * 3
    return (x + 0.08 * rng.standard_normal((n, 2))).astype(np.float32)


def swissroll(n: int, rng: np.random.Generator) -> np.ndarray:
    """The Swiss roll's (x, z) plane with noise 1, scaled by 1/5."""
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))
    x = np.stack([t * np.cos(t), t * np.sin(t)], 1) + rng.standard_normal((n, 2))
    return (x / 5).astype(np.float32)


TOY: dict[str, Callable[[int, np.random.Generator], np.ndarray]] = {
    "8gaussians": eight_gaussians,
    "checkerboard": checkerboard,
    "2spirals": two_spirals,
    "pinwheel": pinwheel,
    "moons": moons,
    "circles": circles,
    "rings": rings,
    "swissroll": swissroll,
}


def sample_toy(name: str, n: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return TOY[name](n, rng)
