"""Model surgery (Berner et al. 2019, Section 3.3 and Appendix B): change the network mid-training
without changing what it computes, so training goes on from the same behaviour.

Two operations, both function-preserving:

* **new observation features** are appended to the input; their columns of the embedding's weight are
  zero, so the embedding (and everything after it) is unchanged;
* **a wider LSTM** (H -> H' units): the old units keep their weights, and they read nothing from the new
  units (those columns of the recurrent weight are zero); the new units get fresh random weights, but
  the policy and value heads read nothing from them (zero columns).  Since the new units start at zero
  memory and no old quantity depends on them, every action distribution and value is unchanged, while
  the heads' zero columns get non-zero gradients (the new units' outputs are not zero) and learn.
"""

from __future__ import annotations

import torch
from torch import nn

from ilya.five.policy import FivePolicy, PolicyShape


@torch.no_grad()
def operate(old: FivePolicy, obs_dim: int | None = None, hidden: int | None = None,
            seed: int = 0) -> FivePolicy:
    """A new policy with ``obs_dim`` inputs and ``hidden`` LSTM units that computes what ``old`` does."""
    s = old.shape
    new_shape = PolicyShape(obs_dim=obs_dim or s.obs_dim, hidden=hidden or s.hidden, embed=s.embed)
    if new_shape.obs_dim < s.obs_dim or new_shape.hidden < s.hidden:
        raise ValueError("surgery only adds inputs and units")
    gen = torch.random.get_rng_state()
    torch.manual_seed(seed)
    new = FivePolicy(new_shape)
    torch.random.set_rng_state(gen)
    o, n = old.net, new.net
    D, H, H2 = s.obs_dim, s.hidden, new_shape.hidden
    # embedding: old columns copied, new feature columns zero
    ne, oe = n.embed[0], o.embed[0]
    assert isinstance(ne, nn.Linear) and isinstance(oe, nn.Linear)
    ne.weight.zero_()
    ne.weight[:, :D] = oe.weight
    ne.bias.copy_(oe.bias)
    # LSTM: gates i, f, g, o stacked in blocks of H (old) / H2 (new)
    for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
        ow, nw = getattr(o.rnn, name), getattr(n.rnn, name)
        for k in range(4):
            rows_new = slice(k * H2, k * H2 + H)
            rows_old = slice(k * H, (k + 1) * H)
            if name == "weight_hh_l0":
                nw[rows_new, :H] = ow[rows_old]
                nw[rows_new, H:] = 0.0  # old units read nothing from the new ones
            else:
                nw[rows_new] = ow[rows_old]
    # heads: read the old units as before, nothing from the new ones
    for head_new, head_old in ((n.pi, o.pi), (n.v, o.v)):
        head_new.weight.zero_()
        head_new.weight[:, :H] = head_old.weight
        head_new.bias.copy_(head_old.bias)
    return new


@torch.no_grad()
def max_kl(a: FivePolicy, b: FivePolicy, x: torch.Tensor, mask: torch.Tensor) -> float:
    """The largest KL(a || b) of any action head over the sequences ``x`` (B, T, D) (memory from zero)."""
    from ilya.five.policy import split_heads

    la, _, _ = a(x, a.initial_state(x.shape[0]))
    lb, _, _ = b(x, b.initial_state(x.shape[0]))
    worst = 0.0
    for ha, hb in zip(split_heads(la, mask), split_heads(lb, mask), strict=True):
        kl = (ha.exp() * (ha - hb)).sum(-1)
        worst = max(worst, float(kl.max()))
    return worst
