"""Time-dependent layers for the dynamics f(z, t) (FFJORD §4, appendix B).

The dynamics of a CNF may depend on time.  FFJORD's code feeds t into every layer in one of two ways:

- *concat*: ``W [x, t] + b`` -- t is an extra input feature (or an extra constant image channel);
- *concatsquash*: ``(W x + b) * sigmoid(W_g t + b_g) + W_b t`` -- t gates and shifts each output unit.

A third, *input*, feeds t to the first layer only and is a plain MLP above it (torchdiffeq's and zuko's
CNF examples).  Any of them can see t through a Fourier embedding ``[cos(k pi t), sin(k pi t)]_{k=1..F}``
instead of t itself (``time_features=F``; zuko's CNF uses F = 3 with the *input* layer and ELU).

A ``context`` vector (the encoder's features for the amortised VAE posterior, §5.3) is handled like t:
it is appended to t, so every layer sees it.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn


class ConcatLinear(nn.Module):
    """``W [x, t, c] + b``."""

    def __init__(self, d_in: int, d_out: int, d_time: int = 1) -> None:
        super().__init__()
        self.linear = nn.Linear(d_in + d_time, d_out)

    def forward(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        # t: (B, d_time) already broadcast; x: (B, d_in)
        return self.linear(torch.cat([x, t], dim=1))  # (B, d_out)


class ConcatSquashLinear(nn.Module):
    """``(W x + b) * sigmoid(W_g [t, c] + b_g) + W_b [t, c]`` (the 2D/tabular default of the paper's code)."""

    def __init__(self, d_in: int, d_out: int, d_time: int = 1) -> None:
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)
        self.hyper_gate = nn.Linear(d_time, d_out)
        self.hyper_bias = nn.Linear(d_time, d_out, bias=False)

    def forward(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) * torch.sigmoid(self.hyper_gate(t)) + self.hyper_bias(t)  # (B, d_out)


class PlainLinear(nn.Module):
    """``W x + b``: the layers above the first of the *input* scheme, which do not see t."""

    def __init__(self, d_in: int, d_out: int, d_time: int = 1) -> None:
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)

    def forward(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class ConcatConv2d(nn.Module):
    """A conv layer whose input gets t as one extra constant channel."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 3, stride: int = 1, padding: int = 1,
                 d_time: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in + d_time, c_out, kernel, stride, padding)

    def forward(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        B, _, H, W = x.shape
        tt = t.view(B, -1, 1, 1).expand(B, t.shape[1], H, W)  # (B, d_time, H, W)
        return self.conv(torch.cat([x, tt], dim=1))


class ConcatSquashConv2d(nn.Module):
    """``conv(x) * sigmoid(W_g t + b_g) + W_b t`` per output channel."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 3, stride: int = 1, padding: int = 1,
                 d_time: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, padding)
        self.hyper_gate = nn.Linear(d_time, c_out)
        self.hyper_bias = nn.Linear(d_time, c_out, bias=False)

    def forward(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.hyper_gate(t))[:, :, None, None]  # (B, C, 1, 1)
        bias = self.hyper_bias(t)[:, :, None, None]
        return self.conv(x) * gate + bias


LINEAR_LAYERS: dict[str, type[nn.Module]] = {"concat": ConcatLinear, "concatsquash": ConcatSquashLinear,
                                              "input": ConcatLinear}
CONV_LAYERS: dict[str, type[nn.Module]] = {"concat": ConcatConv2d, "concatsquash": ConcatSquashConv2d}
ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "softplus": nn.Softplus, "elu": nn.ELU,
                                           "swish": nn.SiLU, "relu": nn.ReLU}


class ODEnet(nn.Module):
    """The dynamics network f(z, t[, c]): a stack of time-dependent layers with smooth activations.

    ``dims`` are the hidden widths (MLP) or channel counts (conv).  The activation must be smooth enough
    for the solver (tanh / softplus / swish); the last layer has none.
    """

    freqs: torch.Tensor  # (F,) the Fourier frequencies k pi of the time embedding (empty: t itself)

    def __init__(self, d: int | tuple[int, int, int], hidden: tuple[int, ...], layer: str = "concatsquash",
                 activation: str = "tanh", d_context: int = 0, time_features: int = 0) -> None:
        super().__init__()
        conv = isinstance(d, tuple)
        registry = CONV_LAYERS if conv else LINEAR_LAYERS
        if layer not in registry:
            raise ValueError(f"layer {layer!r}: expected one of {', '.join(registry)}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation {activation!r}: expected one of {', '.join(ACTIVATIONS)}")
        d_in = d[0] if conv else d
        if time_features < 0:
            raise ValueError(f"time_features {time_features}: expected >= 0")
        widths = [d_in, *hidden, d_in]
        d_time = (2 * time_features if time_features else 1) + d_context
        self.layers = nn.ModuleList(
            (PlainLinear if layer == "input" and i > 0 else registry[layer])(a, b, d_time=d_time)
            for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)))
        self.act = ACTIVATIONS[activation]()
        self.d_context = d_context
        self.register_buffer("freqs", torch.arange(1, time_features + 1) * math.pi, persistent=False)

    def embed_time(self, t: torch.Tensor, B: int, like: torch.Tensor) -> torch.Tensor:
        """t as the layers see it: (B, 1), or its Fourier features (B, 2F)."""
        t = t.reshape(1, 1).to(like)
        if len(self.freqs):
            kt = t * self.freqs.to(like)  # (1, F)
            t = torch.cat([kt.cos(), kt.sin()], dim=1)  # (1, 2F)
        return t.expand(B, t.shape[1])

    def forward(self, t: torch.Tensor, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        tt = self.embed_time(t, z.shape[0], z)  # (B, 1) or (B, 2F)
        if context is not None:
            tt = torch.cat([tt, context], dim=1)  # (B, d_time + d_context)
        h = z
        for i, layer in enumerate(self.layers):
            h = layer(tt, h)
            if i < len(self.layers) - 1:
                h = self.act(h)
        return h

